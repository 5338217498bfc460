//! DictVectorizer: a map becomes a `[1, V]` row over the vocabulary, each entry the
//! map's value for that word, zero (or "") where the map has none.

use std::collections::HashMap;

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Tensor, Value};

use super::common::{map_entries, MapValues};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

enum Vocab {
    Strs(HashMap<String, usize>),
    Ints(HashMap<i64, usize>),
}

struct DictVectorizer {
    vocab: Vocab,
    n: usize,
}

impl Kernel for DictVectorizer {
    fn compute(&self, inputs: &[Option<&Value>], _ctx: &Ctx<'_>) -> Outputs {
        let (keys, elem, vals) = map_entries(inputs.first().copied().flatten())?;
        let slots: Vec<Option<usize>> = match (&self.vocab, keys.elem()) {
            (Vocab::Strs(v), ElemType::String) => keys
                .as_slice::<RString>()?
                .iter()
                .map(|k| v.get(k.as_str()).copied())
                .collect(),
            (Vocab::Ints(v), e) if e != ElemType::String => keys
                .to_i64_vec()?
                .iter()
                .map(|k| v.get(k).copied())
                .collect(),
            (_, e) => {
                return Err(Error::invalid(format!(
                    "DictVectorizer's vocabulary does not match {e} keys"
                )))
            }
        };
        let shape = [1, self.n as i64];
        fn spread<T: Clone>(slots: &[Option<usize>], vals: &[T], n: usize, zero: T) -> Vec<T> {
            let mut out = vec![zero; n];
            for (s, v) in slots.iter().zip(vals) {
                if let Some(s) = s {
                    out[*s] = v.clone();
                }
            }
            out
        }
        let t = match vals {
            MapValues::Strs(v) => Tensor::from_vec(
                &shape,
                spread(&slots, &v, self.n, String::new())
                    .into_iter()
                    .map(RString::from)
                    .collect::<Vec<_>>(),
            )?,
            MapValues::Floats(v) if elem == ElemType::F64 => {
                Tensor::from_vec(&shape, spread(&slots, &v, self.n, 0.0))?
            }
            MapValues::Floats(v) => {
                let v: Vec<f32> = v.iter().map(|&a| a as f32).collect();
                Tensor::from_vec(&shape, spread(&slots, &v, self.n, 0.0))?
            }
            MapValues::Ints(v) => Tensor::from_vec(&shape, spread(&slots, &v, self.n, 0i64))?,
        };
        one(t)
    }
}

crate::register!("DictVectorizer", "ai.onnx.ml", [1, LATEST], ANY, 0, |n| {
    // A word listed twice maps to its first column.
    let (n, vocab) = match (n.strings("string_vocabulary")?, n.ints("int64_vocabulary")?) {
        (Some(s), None) => (
            s.len(),
            Vocab::Strs(
                s.into_iter()
                    .enumerate()
                    .rev()
                    .map(|(i, w)| (w, i))
                    .collect(),
            ),
        ),
        (None, Some(v)) => (
            v.len(),
            Vocab::Ints(
                v.into_iter()
                    .enumerate()
                    .rev()
                    .map(|(i, w)| (w, i))
                    .collect(),
            ),
        ),
        _ => {
            return Err(Error::invalid(
                "DictVectorizer needs exactly one of string_vocabulary and int64_vocabulary",
            ))
        }
    };
    Ok(Box::new(DictVectorizer { vocab, n }))
});
