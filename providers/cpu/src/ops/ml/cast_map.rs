//! CastMap: a map from integers to strings or floats becomes a `[1, n]` row in key
//! order (DENSE), or a `[1, max_map]` row indexed by key with padding (SPARSE), cast
//! to floats, integers or strings as onnxruntime casts them.

use ort_core::abi::RString;
use ort_core::{Error, Tensor, Value};

use super::common::{map_entries, MapValues};
use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

#[derive(Clone, Copy)]
enum To {
    Float,
    Int,
    Str,
}

struct CastMap {
    to: To,
    /// The SPARSE width, or None for DENSE.
    sparse: Option<usize>,
}

/// A value as text, as C++'s `std::to_string` writes a float (six decimals).
fn text(v: f64) -> String {
    format!("{:.6}", v as f32)
}

impl Kernel for CastMap {
    fn compute(&self, inputs: &[Option<&Value>], _ctx: &Ctx<'_>) -> Outputs {
        let (keys, _, vals) = map_entries(inputs.first().copied().flatten())?;
        let keys = keys.to_i64_vec()?;
        // Entries in ascending key order, as an ordered map holds them.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        let cast = |i: usize| -> Result<(f32, i64, String), Error> {
            Ok(match &vals {
                MapValues::Floats(v) => (v[i] as f32, v[i] as f32 as i64, text(v[i])),
                MapValues::Ints(v) => (v[i] as f32, v[i], v[i].to_string()),
                MapValues::Strs(v) => {
                    let s = v[i].trim();
                    let num =
                        |what| Error::invalid(format!("CastMap cannot read {:?} as {what}", v[i]));
                    let f = || s.parse::<f32>().map_err(|_| num("a float"));
                    let n = || s.parse::<i64>().map_err(|_| num("an integer"));
                    match self.to {
                        To::Float => (f()?, 0, String::new()),
                        To::Int => (0.0, n()?, String::new()),
                        To::Str => (0.0, 0, v[i].clone()),
                    }
                }
            })
        };
        let slots: Vec<Option<usize>> = match self.sparse {
            None => order.iter().map(|&i| Some(i)).collect(),
            Some(n) => {
                if let Some(&first) = order.first() {
                    if keys[first] < 0 {
                        return Err(Error::invalid(format!(
                            "CastMap SPARSE got a negative key {}",
                            keys[first]
                        )));
                    }
                }
                let mut s = vec![None; n];
                for &i in &order {
                    if let Some(slot) = s.get_mut(keys[i] as usize) {
                        *slot = Some(i);
                    }
                }
                s
            }
        };
        let shape = [1, slots.len() as i64];
        let cells = slots
            .iter()
            .map(|s| s.map(cast).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        let t = match self.to {
            To::Float => Tensor::from_vec(
                &shape,
                cells
                    .iter()
                    .map(|c| c.as_ref().map_or(0.0, |c| c.0))
                    .collect::<Vec<f32>>(),
            )?,
            To::Int => Tensor::from_vec(
                &shape,
                cells
                    .iter()
                    .map(|c| c.as_ref().map_or(0, |c| c.1))
                    .collect::<Vec<i64>>(),
            )?,
            To::Str => Tensor::from_vec(
                &shape,
                cells
                    .iter()
                    .map(|c| RString::from(c.as_ref().map_or("0.f", |c| c.2.as_str())))
                    .collect::<Vec<_>>(),
            )?,
        };
        one(t)
    }
}

crate::register!("CastMap", "ai.onnx.ml", [1, LATEST], ANY, 0, |n| {
    let to = match n.string("cast_to", "TO_FLOAT")?.as_str() {
        "TO_FLOAT" => To::Float,
        "TO_INT64" => To::Int,
        "TO_STRING" => To::Str,
        s => return Err(Error::invalid(format!("unknown cast_to {s:?}"))),
    };
    let sparse = match n.string("map_form", "DENSE")?.as_str() {
        "DENSE" => None,
        "SPARSE" => {
            let m = n.int("max_map", 1)?;
            Some(usize::try_from(m).map_err(|_| Error::invalid("max_map is negative"))?)
        }
        s => return Err(Error::invalid(format!("unknown map_form {s:?}"))),
    };
    Ok(Box::new(CastMap { to, sparse }))
});
