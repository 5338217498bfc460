//! What SVMClassifier and SVMRegressor share: the kernel function between an input
//! row and a support vector (or coefficient row), in f32 as onnxruntime computes it.

use ort_core::Error;

use crate::kernel::NodeInfo;

#[derive(Clone, Copy)]
pub(crate) enum SvmKernel {
    Linear,
    Poly { gamma: f32, coef0: f32, degree: f32 },
    Rbf { gamma: f32 },
    Sigmoid { gamma: f32, coef0: f32 },
}

impl SvmKernel {
    /// `kernel_type` with `kernel_params` (gamma, coef0, degree).
    pub fn parse(n: &NodeInfo<'_, '_>) -> Result<SvmKernel, Error> {
        let p = n.floats("kernel_params")?.unwrap_or_default();
        let (gamma, coef0, degree) = match p[..] {
            [] => (0.0, 0.0, 0.0),
            [g, c, d, ..] => (g, c, d),
            _ => {
                return Err(Error::invalid(
                    "kernel_params must hold gamma, coef0 and degree",
                ))
            }
        };
        Ok(match n.string("kernel_type", "LINEAR")?.as_str() {
            "LINEAR" => SvmKernel::Linear,
            "POLY" => SvmKernel::Poly {
                gamma,
                coef0,
                degree,
            },
            "RBF" => SvmKernel::Rbf { gamma },
            "SIGMOID" => SvmKernel::Sigmoid { gamma, coef0 },
            s => return Err(Error::invalid(format!("unknown kernel_type {s:?}"))),
        })
    }

    /// `[rows, n]`: the kernel between each `f`-long row of `x` and of `vectors`;
    /// `c` is added to the linear kernel's dot products.
    pub fn apply(self, x: &[f32], vectors: &[f32], f: usize, c: f32) -> Vec<f32> {
        let f = f.max(1);
        let n = vectors.len() / f;
        let mut out = Vec::with_capacity(x.len() / f * n);
        for row in x.chunks_exact(f) {
            for v in vectors.chunks_exact(f) {
                let dot = || row.iter().zip(v).map(|(a, b)| a * b).sum::<f32>();
                out.push(match self {
                    SvmKernel::Linear => dot() + c,
                    SvmKernel::Poly {
                        gamma,
                        coef0,
                        degree,
                    } => {
                        let b = gamma * dot() + coef0;
                        match degree {
                            2.0 => b * b,
                            3.0 => b * b * b,
                            d => b.powf(d),
                        }
                    }
                    SvmKernel::Rbf { gamma } => {
                        let d2: f32 = row.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum();
                        (-gamma * d2).exp()
                    }
                    SvmKernel::Sigmoid { gamma, coef0 } => (gamma * dot() + coef0).tanh(),
                });
            }
        }
        out
    }
}
