//! QEmbedLayerNormalization (`com.microsoft`): EmbedLayerNormalization over
//! uint8/int8 tables (embeddings, gamma, beta) dequantized as
//! `(q − zero_point) · scale`, as onnxruntime computes it.

use ort_core::ElemType::I32;
use ort_core::Value;

use super::dequantized;
use super::embed_layer_normalization::{parse, EmbedLayerNormalization};
use crate::kernel::{input, opt_input, Ctx, Kernel, NodeInfo, Outputs};

struct QEmbedLayerNormalization(EmbedLayerNormalization);

impl Kernel for QEmbedLayerNormalization {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        // Tables 2..=6 with their scales at 8.. and zero points at 13..
        let mut tables = Vec::new();
        for (k, i) in (2..=6).enumerate() {
            tables.push(match opt_input(inputs, i)? {
                Some(t) => Some(Value::Tensor(dequantized(
                    t,
                    input(inputs, 8 + k)?,
                    opt_input(inputs, 13 + k)?,
                    ctx,
                )?)),
                None => None,
            });
        }
        let at = |i: usize| inputs.get(i).copied().flatten();
        let mut args: Vec<Option<&Value>> = vec![at(0), at(1)];
        args.extend(tables.iter().map(|t| t.as_ref()));
        args.push(at(7));
        self.0.compute(&args, ctx)
    }
}

crate::register!(
    "QEmbedLayerNormalization",
    "com.microsoft",
    [1, 1],
    &[I32],
    0,
    |info: &NodeInfo<'_, '_>| Ok(Box::new(QEmbedLayerNormalization(parse(info)?)))
);
