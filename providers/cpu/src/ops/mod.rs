//! Kernels, one op per file, grouped by family. Each file registers itself with
//! [`register!`](crate::register); nothing here lists them.

use ort_core::ElemType::{self, *};

pub mod attention;
pub mod contrib;
pub mod fused;
pub mod image;
pub mod logic;
pub mod loss;
pub mod math;
pub mod ml;
pub mod nn;
pub mod quant;
pub mod random;
pub mod reduce;
pub mod rnn;
pub mod sequence;
pub mod signal;
pub mod tensor;
pub mod text;
pub mod training;

/// Float element types.
pub const FLOATS: &[ElemType] = &[F32, F64, F16, BF16];
/// Floats and integers.
pub const NUMERIC: &[ElemType] = &[F32, F64, F16, BF16, I8, I16, I32, I64, U8, U16, U32, U64];
/// Signed numbers.
pub const SIGNED: &[ElemType] = &[F32, F64, F16, BF16, I8, I16, I32, I64];
/// Every type (no constraint).
pub const ANY: &[ElemType] = &[];
/// The newest opset a kernel covers when no later version changed the op.
pub const LATEST: i64 = i64::MAX;
