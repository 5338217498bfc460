//! MaxPool, AveragePool, GlobalMaxPool and GlobalAveragePool
//! (`com.microsoft.nchwc`): the ONNX pooling kernels (same attributes) between
//! a move to plain NCHW and back to the blocked layout.

use ort_core::ElemType::F32;
use ort_core::{Error, Value};

use super::{block_size, to_blocked, to_plain};
use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::{average_pool, global_average_pool, global_max_pool, max_pool};

struct Blocked {
    pool: Box<dyn Kernel>,
    b: usize,
}

impl Kernel for Blocked {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = Value::Tensor(to_plain(input(inputs, 0)?, self.b, ctx)?);
        let mut y = self.pool.compute(&[Some(&x)], ctx)?;
        match y.first_mut().and_then(|v| v.take()) {
            Some(Value::Tensor(t)) => one(to_blocked(&t, self.b, ctx)?),
            _ => Err(Error::invalid("the pooling gave no tensor")),
        }
    }
}

fn blocked(info: &NodeInfo<'_, '_>, pool: Box<dyn Kernel>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Blocked {
        pool,
        b: block_size(info.graph)?,
    }))
}

crate::register!(
    "MaxPool",
    "com.microsoft.nchwc",
    [1, 1],
    &[F32],
    0,
    |info: &NodeInfo<'_, '_>| { blocked(info, max_pool::build(info)?) }
);
crate::register!(
    "AveragePool",
    "com.microsoft.nchwc",
    [1, 1],
    &[F32],
    0,
    |info: &NodeInfo<'_, '_>| { blocked(info, average_pool::build(info)?) }
);
crate::register!(
    "GlobalMaxPool",
    "com.microsoft.nchwc",
    [1, 1],
    &[F32],
    0,
    |info: &NodeInfo<'_, '_>| { blocked(info, Box::new(global_max_pool::GlobalMaxPool)) }
);
crate::register!(
    "GlobalAveragePool",
    "com.microsoft.nchwc",
    [1, 1],
    &[F32],
    0,
    |info: &NodeInfo<'_, '_>| { blocked(info, Box::new(global_average_pool::GlobalAveragePool)) }
);
