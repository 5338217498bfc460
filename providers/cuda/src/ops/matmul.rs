//! MatMul, Gemm and the fused-domain FusedMatMul / FusedGemm through cuBLAS
//! (`cublasGemmStridedBatchedEx`, float32 accumulation; TF32 with the option
//! `tf32=1`). A bias is first broadcast into the output, which the product
//! then adds to (β = 1, or Gemm's beta); the activation runs in place.

use ort_core::kit::Attributes;
use std::ffi::c_void;

use cudarc::cublas::result::gemm_strided_batched_ex;
use cudarc::cublas::sys::{cublasComputeType_t, cublasGemmAlgo_t, cublasOperation_t, cudaDataType};
use ort_core::kit::{broadcast, broadcast_strides, numel, strides};
use ort_core::{ElemType, Error, GraphView, NodeView};

use super::transpose::strided;
use super::unary::{activation, Unary};
use super::{invalid, is_fused, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};

/// A row-major product C[m, n] = op(A) · op(B), `batch` times.
pub struct Gemm {
    pub m: i64,
    pub n: i64,
    pub k: i64,
    pub trans_a: bool,
    pub trans_b: bool,
    pub batch: i64,
    /// Row strides of A, B and C when they are not dense (attention reads each
    /// head's columns in place); None: dense.
    pub ld: Option<[i64; 3]>,
}

/// Runs `c = alpha·op(a)·op(b) + beta·c`; each operand is (address, batch stride
/// in elements).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    cx: &Cx<'_>,
    elem: ElemType,
    g: &Gemm,
    alpha: f32,
    a: (u64, i64),
    b: (u64, i64),
    beta: f32,
    c: (u64, i64),
) -> Result<(), Error> {
    if g.m == 0 || g.n == 0 || g.batch == 0 {
        return Ok(());
    }
    let ty = match elem {
        ElemType::F32 => cudaDataType::CUDA_R_32F,
        ElemType::F16 => cudaDataType::CUDA_R_16F,
        ElemType::BF16 => cudaDataType::CUDA_R_16BF,
        e => return Err(invalid(format!("no cuBLAS product for {e}"))),
    };
    let compute = if elem == ElemType::F32 && cx.gpu.tf32 {
        cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32
    } else {
        cublasComputeType_t::CUBLAS_COMPUTE_32F
    };
    let op = |t: bool| {
        if t {
            cublasOperation_t::CUBLAS_OP_T
        } else {
            cublasOperation_t::CUBLAS_OP_N
        }
    };
    let [lda, ldb, ldc] = g.ld.unwrap_or([
        if g.trans_a { g.m } else { g.k },
        if g.trans_b { g.k } else { g.n },
        g.n,
    ]);
    let int =
        |v: i64| i32::try_from(v).map_err(|_| invalid(format!("{v} is too large for cuBLAS")));
    // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: B goes first.
    // SAFETY: the pointers are live device blocks holding the batch of matrices
    // these dimensions and strides describe; alpha and beta are host f32s, as the
    // handle's default pointer mode and the f32 compute types expect.
    unsafe {
        gemm_strided_batched_ex(
            *cx.lane.blas.handle(),
            op(g.trans_b),
            op(g.trans_a),
            int(g.n)?,
            int(g.m)?,
            int(g.k)?,
            &alpha as *const f32 as *const c_void,
            b.0 as *const c_void,
            ty,
            int(ldb)?,
            b.1,
            a.0 as *const c_void,
            ty,
            int(lda)?,
            a.1,
            &beta as *const f32 as *const c_void,
            c.0 as *mut c_void,
            ty,
            int(ldc)?,
            c.1,
            int(g.batch)?,
            compute,
            cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
        )
    }
    .map_err(|e| Error::fail(format!("cuBLAS GEMM: {e:?}")))
}

#[derive(Clone, Debug)]
pub struct MatMul {
    pub trans_a: bool,
    pub trans_b: bool,
    pub alpha: f32,
    /// Gemm's beta, for the third operand.
    pub beta: f32,
    pub bias: bool,
    pub act: Option<Unary>,
    /// Gemm: both operands must be matrices.
    pub matrices: bool,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let gemm = node.is_onnx("Gemm") || is_fused(node, "FusedGemm");
    let fused = is_fused(node, "FusedGemm") || is_fused(node, "FusedMatMul");
    if !(gemm || fused || node.is_onnx("MatMul")) {
        return Ok(None);
    }
    let m = MatMul {
        trans_a: node.attr_int("transA", 0)? != 0,
        trans_b: node.attr_int("transB", 0)? != 0,
        alpha: node.attr_float("alpha", 1.0)?,
        beta: if gemm {
            node.attr_float("beta", 1.0)?
        } else {
            1.0
        },
        bias: node.has_input(2),
        act: if fused { activation(node)? } else { None },
        matrices: gemm,
    };
    let n = 2 + m.bias as usize;
    Ok(Some(Claim::one(Lowered::inputs(m, n))))
}

/// The product's layout: batch shape, (m, k, n), and the output shape.
struct Layout {
    batch: Vec<i64>,
    mkn: (i64, i64, i64),
    out: Vec<i64>,
}

impl MatMul {
    fn layout(&self, a: &[i64], b: &[i64]) -> Result<Layout, Error> {
        if self.matrices && (a.len() != 2 || b.len() != 2) {
            return Err(invalid(format!(
                "Gemm of {a:?} and {b:?}: both must be matrices"
            )));
        }
        if a.is_empty() || b.is_empty() {
            return Err(invalid("MatMul of a scalar"));
        }
        // numpy: a vector is a row on the left and a column on the right.
        let a2: Vec<i64> = if a.len() == 1 {
            vec![1, a[0]]
        } else {
            a.to_vec()
        };
        let b2: Vec<i64> = if b.len() == 1 {
            vec![b[0], 1]
        } else {
            b.to_vec()
        };
        let (ra, rb) = (a2.len(), b2.len());
        let (m, ka) = if self.trans_a && a.len() > 1 {
            (a2[ra - 1], a2[ra - 2])
        } else {
            (a2[ra - 2], a2[ra - 1])
        };
        let (kb, n) = if self.trans_b && b.len() > 1 {
            (b2[rb - 1], b2[rb - 2])
        } else {
            (b2[rb - 2], b2[rb - 1])
        };
        if ka != kb {
            return Err(invalid(format!(
                "MatMul of {a:?} and {b:?}: inner dims {ka} and {kb} differ"
            )));
        }
        let batch = broadcast(&a2[..ra - 2], &b2[..rb - 2])?;
        let mut out = batch.clone();
        if a.len() > 1 {
            out.push(m);
        }
        if b.len() > 1 {
            out.push(n);
        }
        Ok(Layout {
            batch,
            mkn: (m, ka, n),
            out,
        })
    }
}

impl Kernel for MatMul {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let l = self.layout(inputs[0], inputs[1])?;
        if self.bias {
            let with = broadcast(&l.out, inputs[2])?;
            if with != l.out {
                return Err(invalid(format!(
                    "a bias of {:?} for a product of {:?}",
                    inputs[2], l.out
                )));
            }
        }
        Ok(l.out)
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out, .. } = io;
        let (a, b) = (&inputs[0], &inputs[1]);
        let l = self.layout(&a.shape, &b.shape)?;
        let mut beta = 0.0;
        if self.bias {
            let c = &inputs[2];
            strided(
                cx,
                c,
                0,
                &broadcast_strides(&c.shape, &out.shape),
                out,
                0,
                &strides(&out.shape),
                &out.shape,
            )?;
            beta = self.beta;
        }
        let (m, k, n) = l.mkn;
        let es = a.elem.size() as u64;
        let g = |batch| Gemm {
            m,
            n,
            k,
            trans_a: self.trans_a,
            trans_b: self.trans_b,
            batch,
            ld: None,
        };
        let nb = numel(&l.batch) as i64;
        let batch_of = |s: &[i64]| -> Vec<i64> { s[..s.len().saturating_sub(2)].to_vec() };
        let (ba, bb) = (batch_of(&a.shape), batch_of(&b.shape));
        let (na, nbb) = (numel(&ba) as i64, numel(&bb) as i64);
        if (na == nb || na == 1) && (nbb == nb || nbb == 1) {
            // Each operand is the whole batch or one matrix: one call.
            let sa = if na == 1 { 0 } else { m * k };
            let sb = if nbb == 1 { 0 } else { k * n };
            gemm(
                cx,
                a.elem,
                &g(nb),
                self.alpha,
                (a.ptr(), sa),
                (b.ptr(), sb),
                beta,
                (out.ptr(), m * n),
            )?;
        } else {
            // Partial broadcasting of the batch axes: one call per output matrix.
            let (sa, sb) = (
                broadcast_strides(&ba, &l.batch),
                broadcast_strides(&bb, &l.batch),
            );
            let ost = strides(&l.batch);
            for i in 0..nb {
                let (mut oa, mut ob) = (0, 0);
                for d in 0..l.batch.len() {
                    let c = i / ost[d] % l.batch[d];
                    oa += c * sa[d];
                    ob += c * sb[d];
                }
                let ap = a.ptr() + (oa * m * k) as u64 * es;
                let bp = b.ptr() + (ob * k * n) as u64 * es;
                let cp = out.ptr() + (i * m * n) as u64 * es;
                gemm(
                    cx,
                    a.elem,
                    &g(1),
                    self.alpha,
                    (ap, 0),
                    (bp, 0),
                    beta,
                    (cp, 0),
                )?;
            }
        }
        if let Some(act) = self.act {
            act.launch(
                cx,
                Io {
                    inputs: std::slice::from_ref(out),
                    ints: &[],
                    out,
                },
            )?;
        }
        Ok(())
    }
}
