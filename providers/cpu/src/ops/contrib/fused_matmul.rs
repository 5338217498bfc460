//! FusedMatMul (`com.microsoft`): `alpha · A' ⋅ B'` with numpy broadcasting, the
//! fused domain's MatMul kernel (`transA`, `transB`, `alpha`); the batch
//! transposes (`transBatchA`, `transBatchB`) are refused with a clear error.

use ort_core::ElemType::{F32, F64};
use ort_core::Error;

use crate::kernel::{Kernel, NodeInfo};

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    for a in ["transBatchA", "transBatchB"] {
        if info.int(a, 0)? != 0 {
            return Err(Error::not_implemented(format!(
                "FusedMatMul with {a} = 1 is not supported"
            )));
        }
    }
    crate::ops::nn::mat_mul::build_fused(info)
}

crate::register!(
    "FusedMatMul",
    "com.microsoft",
    [1, 1],
    &[F32, F64],
    0,
    build
);
