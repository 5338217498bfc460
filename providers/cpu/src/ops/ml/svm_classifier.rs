//! SVMClassifier: one-vs-one voting over support-vector kernels (libsvm's layout), or a
//! linear model per class; optional Platt probabilities coupled across classes. Labels
//! and scores follow onnxruntime, including its binary special cases.

use ort_core::{Error, Value};

use super::common::{f32_rows, post_rows, second_class};
use super::svm::SvmKernel;
use super::tree::{logistic, Post};
use super::tree_ensemble_classifier::Labels;
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

struct SvmClassifier {
    kernel: SvmKernel,
    labels: Labels,
    /// Support vectors per class and where each class's start; empty for a linear model.
    per_class: Vec<usize>,
    starts: Vec<usize>,
    vectors: Vec<f32>,
    coef: Vec<f32>,
    rho: Vec<f32>,
    prob_a: Vec<f32>,
    prob_b: Vec<f32>,
    post: Post,
    all_positive: bool,
}

impl SvmClassifier {
    fn features(&self) -> usize {
        let c = self.labels.len();
        let v: usize = self.per_class.iter().sum();
        self.vectors
            .len()
            .checked_div(v)
            .unwrap_or(self.coef.len() / c)
    }

    /// The one-vs-one decision values of one row's kernels, and the class votes.
    fn pairwise(&self, k: &[f32]) -> (Vec<f32>, Vec<usize>) {
        let c = self.labels.len();
        let v = k.len();
        let mut scores = Vec::with_capacity(c * (c - 1) / 2);
        let mut votes = vec![0usize; c];
        for i in 0..c {
            for j in i + 1..c {
                let (si, sj) = (self.starts[i], self.starts[j]);
                // Class i's vectors weighed by row j-1 of the coefficients, class
                // j's by row i (libsvm's layout).
                let part = |row: usize, at: usize, len: usize| -> f64 {
                    let w = &self.coef[row * v + at..row * v + at + len];
                    w.iter()
                        .zip(&k[at..at + len])
                        .map(|(a, b)| (a * b) as f64)
                        .sum()
                };
                let mut sum = part(j - 1, si, self.per_class[i]) + part(i, sj, self.per_class[j]);
                sum += self.rho[scores.len()] as f64;
                scores.push(sum as f32);
                votes[if sum > 0.0 { i } else { j }] += 1;
            }
        }
        (scores, votes)
    }

    /// Class probabilities from the pairwise decision values (Platt scaling, then
    /// pairwise coupling).
    fn probabilities(&self, pair: &[f32]) -> Vec<f32> {
        let c = self.labels.len();
        let mut r = vec![0f32; c * c];
        let mut idx = 0;
        for i in 0..c {
            for j in i + 1..c {
                let p =
                    1.0 - logistic((pair[idx] * self.prob_a[idx] + self.prob_b[idx]) as f64) as f32;
                let p = p.clamp(1.0e-7, 1.0 - 1.0e-7);
                r[i * c + j] = p;
                r[j * c + i] = 1.0 - p;
                idx += 1;
            }
        }
        couple(c, &r)
    }
}

/// Pairwise coupling (Wu, Lin and Weng 2004, method 2), as libsvm and onnxruntime
/// iterate it, in f32.
fn couple(c: usize, r: &[f32]) -> Vec<f32> {
    let mut q = vec![0f32; c * c];
    let mut p = vec![1.0 / c as f32; c];
    for i in 0..c {
        for j in 0..i {
            q[i * c + i] += r[j * c + i] * r[j * c + i];
            q[i * c + j] = q[j * c + i];
        }
        for j in i + 1..c {
            q[i * c + i] += r[j * c + i] * r[j * c + i];
            q[i * c + j] = -r[j * c + i] * r[i * c + j];
        }
    }
    let eps = 0.005 / c as f32;
    let mut qp = vec![0f32; c];
    for _ in 0..100 {
        let mut pqp = 0f32;
        for i in 0..c {
            qp[i] = (0..c).map(|j| q[i * c + j] * p[j]).sum();
            pqp += p[i] * qp[i];
        }
        if qp.iter().map(|&v| (v - pqp).abs()).fold(0f32, f32::max) < eps {
            break;
        }
        for i in 0..c {
            let diff = (-qp[i] + pqp) / q[i * c + i];
            p[i] += diff;
            pqp = (pqp + diff * (diff * q[i * c + i] + 2.0 * qp[i])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..c {
                qp[j] = (qp[j] + diff * q[i * c + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

impl Kernel for SvmClassifier {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (rows, f, x) = f32_rows(input(inputs, 0)?)?;
        if f != self.features() {
            return Err(Error::invalid(format!(
                "SVMClassifier expects {} features, got {f}",
                self.features()
            )));
        }
        let c = self.labels.len();
        let svc = !self.per_class.is_empty();
        let proba = !self.prob_a.is_empty();
        let mut picks = Vec::with_capacity(rows);
        let mut z = Vec::new();
        let width;
        if svc {
            let v: usize = self.per_class.iter().sum();
            let kernels = self.kernel.apply(&x, &self.vectors, f, 0.0);
            width = if proba {
                c
            } else if c > 2 {
                c * (c - 1) / 2
            } else {
                2
            };
            for k in kernels.chunks_exact(v.max(1)).take(rows) {
                let (pair, votes) = self.pairwise(k);
                let best = (1..c).fold(0, |b, j| if votes[j] > votes[b] { j } else { b });
                picks.push(best);
                let mut s = if proba {
                    self.probabilities(&pair)
                } else {
                    pair
                };
                if s.len() == 1 {
                    // Two classes without probabilities: one decision value, completed
                    // to two scores as onnxruntime does.
                    s = if self.post == Post::Probit {
                        let mut p = [s[0]];
                        post_rows(&mut p, 1, Post::Probit);
                        vec![p[0], 0.0]
                    } else {
                        second_class(s[0], self.post == Post::None).to_vec()
                    };
                } else {
                    let k = s.len();
                    post_rows(&mut s, k, self.post);
                }
                z.extend(s);
            }
        } else {
            width = c;
            let mut s = SvmKernel::Linear.apply(&x, &self.coef, f, self.rho[0]);
            for r in s.chunks_exact(c) {
                let best = (1..c).fold(0, |b, j| if r[j] > r[b] { j } else { b });
                // Two classes: the positive label when the best score says so.
                let w = r[best];
                picks.push(
                    if c == 2
                        && !proba
                        && ((self.all_positive && w >= 0.5) || (!self.all_positive && w > 0.0))
                    {
                        1
                    } else {
                        best
                    },
                );
            }
            post_rows(&mut s, c, self.post);
            z = s;
        }
        Ok(vec![
            Some(Value::Tensor(self.labels.pick(&picks)?)),
            Some(Value::Tensor(
                ctx.tensor_from(&[rows as i64, width as i64], &z)?,
            )),
        ])
    }
}

fn build(n: &crate::kernel::NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let labels = Labels::from_attrs_named(n, "classlabels_ints", "classlabels_strings")?;
    let c = labels.len();
    let per_class: Vec<usize> = n
        .ints("vectors_per_class")?
        .unwrap_or_default()
        .into_iter()
        .map(|v| usize::try_from(v).map_err(|_| Error::invalid("vectors_per_class is negative")))
        .collect::<Result<_, _>>()?;
    let vectors = n.floats("support_vectors")?.unwrap_or_default();
    let coef = n.floats("coefficients")?.unwrap_or_default();
    let rho = n.floats("rho")?.unwrap_or_default();
    let prob_a = n.floats("prob_a")?.unwrap_or_default();
    let prob_b = n.floats("prob_b")?.unwrap_or_default();
    let v: usize = per_class.iter().sum();
    let pairs = c * c.saturating_sub(1) / 2;
    let bad = |why: String| Err(Error::invalid(format!("SVMClassifier: {why}")));
    if c < 2 {
        return bad(format!("{c} class labels"));
    }
    if prob_a.len() != prob_b.len() {
        return bad("prob_a and prob_b differ in length".into());
    }
    let per_class = if v > 0 { per_class } else { vec![] };
    if !per_class.is_empty() {
        if per_class.len() != c || vectors.len() % v != 0 {
            return bad(format!(
                "{} vectors_per_class and {} support vector values for {c} classes",
                per_class.len(),
                vectors.len()
            ));
        }
        if coef.len() < (c - 1) * v
            || rho.len() < pairs
            || (!prob_a.is_empty() && prob_a.len() < pairs)
        {
            return bad(format!(
                "{} coefficients, {} rho, {} prob_a for {c} classes and {v} support vectors",
                coef.len(),
                rho.len(),
                prob_a.len()
            ));
        }
    } else if coef.is_empty() || coef.len() % c != 0 || rho.is_empty() {
        return bad(format!(
            "{} coefficients and {} rho for {c} classes",
            coef.len(),
            rho.len()
        ));
    }
    let starts = per_class
        .iter()
        .scan(0, |s, &k| {
            let at = *s;
            *s += k;
            Some(at)
        })
        .collect();
    Ok(Box::new(SvmClassifier {
        kernel: if per_class.is_empty() {
            SvmKernel::Linear
        } else {
            SvmKernel::parse(n)?
        },
        all_positive: coef.iter().all(|&w| w >= 0.0),
        labels,
        per_class,
        starts,
        vectors,
        coef,
        rho,
        prob_a,
        prob_b,
        post: Post::parse(&n.string("post_transform", "NONE")?)?,
    }))
}

crate::register!("SVMClassifier", "ai.onnx.ml", [1, LATEST], ANY, 0, build);
