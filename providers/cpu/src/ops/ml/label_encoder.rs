//! LabelEncoder: a HashMap built at load time from keys (integers, canonical float bits,
//! strings) to value indices; unknown keys get the default value.

use std::collections::HashMap;

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::Movable;

/// A lookup key: integers, floats (by bits, NaN canonical so NaN finds NaN) or strings.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Float(u64),
    Str(String),
}

fn float_key(v: f64) -> Key {
    Key::Float(if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        (v + 0.0).to_bits()
    })
}

/// The elements of `t` as keys.
fn keys_of(t: &Tensor) -> Result<Vec<Key>, Error> {
    use ElemType::*;
    Ok(match t.elem() {
        String => t
            .as_slice::<RString>()?
            .iter()
            .map(|s| Key::Str(s.as_str().to_string()))
            .collect(),
        F32 => t
            .as_slice::<f32>()?
            .iter()
            .map(|&v| float_key(v as f64))
            .collect(),
        F64 => t.as_slice::<f64>()?.iter().map(|&v| float_key(v)).collect(),
        F16 | BF16 => crate::dispatch_float!(t.elem(), T => Ok::<_, Error>(
            t.as_slice::<T>()?.iter().map(|&v| float_key(crate::util::Num::to_f64(v))).collect()
        ))?,
        _ => t.to_i64_vec()?.into_iter().map(Key::Int).collect(),
    })
}

/// LabelEncoder: maps each input element through a key → value table, or to a
/// default when the key is unknown.
struct LabelEncoder {
    map: HashMap<Key, usize>,
    /// The values, a 1-D tensor in key order.
    values: Tensor,
    /// A one-element tensor of the values' type.
    default: Tensor,
}

impl Kernel for LabelEncoder {
    // The element stand-ins are Copy words, except RString.
    #[allow(clippy::clone_on_copy)]
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let idx: Vec<Option<usize>> = keys_of(x)?
            .iter()
            .map(|k| self.map.get(k).copied())
            .collect();
        let elem = self.values.elem();
        one(crate::dispatch_move!(elem, T => {
            let vals = T::elems_of(&self.values)?;
            let def = T::elems_of(&self.default)?;
            let def = def.first().cloned().unwrap_or_default();
            T::new_tensor(ctx, elem, x.shape(), |out| {
                for (o, i) in out.iter_mut().zip(&idx) {
                    *o = match i {
                        Some(i) => vals[*i].clone(),
                        None => def.clone(),
                    };
                }
            })
        })?)
    }
}

fn build(n: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let strs = |v: Vec<String>| -> Vec<RString> { v.into_iter().map(RString::from).collect() };
    if n.opset() < 2 {
        // Opset 1: strings ↔ their index in classes_strings, direction by input type.
        let classes = n.strings("classes_strings")?.unwrap_or_default();
        let cn = classes.len();
        return Ok(Box::new(if n.input_type(0) == Some(ElemType::I64) {
            LabelEncoder {
                map: (0..cn).map(|i| (Key::Int(i as i64), i)).collect(),
                values: Tensor::from_vec(&[cn as i64], strs(classes))?,
                default: Tensor::from_vec(
                    &[1],
                    strs(vec![n.string("default_string", "_Unused")?]),
                )?,
            }
        } else {
            LabelEncoder {
                map: classes
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (Key::Str(s), i))
                    .collect(),
                values: Tensor::from_vec(&[cn as i64], (0..cn as i64).collect::<Vec<i64>>())?,
                default: Tensor::from_vec(&[1], vec![n.int("default_int64", -1)?])?,
            }
        }));
    }
    let keys: Vec<Key> = if let Some(k) = n.strings("keys_strings")? {
        k.into_iter().map(Key::Str).collect()
    } else if let Some(k) = n.ints("keys_int64s")? {
        k.into_iter().map(Key::Int).collect()
    } else if let Some(k) = n.floats("keys_floats")? {
        k.into_iter().map(|v| float_key(v as f64)).collect()
    } else if let Some(t) = n.tensor("keys_tensor")? {
        keys_of(&t)?
    } else {
        return Err(Error::invalid("LabelEncoder needs keys"));
    };
    let (values, default) = if let Some(v) = n.strings("values_strings")? {
        (
            Tensor::from_vec(&[v.len() as i64], strs(v))?,
            Tensor::from_vec(&[1], strs(vec![n.string("default_string", "_Unused")?]))?,
        )
    } else if let Some(v) = n.ints("values_int64s")? {
        (
            Tensor::from_vec(&[v.len() as i64], v)?,
            Tensor::from_vec(&[1], vec![n.int("default_int64", -1)?])?,
        )
    } else if let Some(v) = n.floats("values_floats")? {
        (
            Tensor::from_vec(&[v.len() as i64], v)?,
            Tensor::from_vec(&[1], vec![n.float("default_float", -0.0)?])?,
        )
    } else if let Some(v) = n.tensor("values_tensor")? {
        let d = match n.tensor("default_tensor")? {
            Some(d) => d,
            None => default_for(v.elem())?,
        };
        if d.elem() != v.elem() || d.len() != 1 {
            return Err(Error::invalid(
                "default_tensor must hold one element of the values' type",
            ));
        }
        (v.reshaped(&[v.len() as i64])?, d)
    } else {
        return Err(Error::invalid("LabelEncoder needs values"));
    };
    if keys.len() != values.len() {
        return Err(Error::invalid(format!(
            "LabelEncoder has {} keys but {} values",
            keys.len(),
            values.len()
        )));
    }
    let mut map = HashMap::with_capacity(keys.len());
    for (i, k) in keys.into_iter().enumerate() {
        map.entry(k).or_insert(i);
    }
    Ok(Box::new(LabelEncoder {
        map,
        values,
        default,
    }))
}

/// The spec's default default for a values tensor without default_tensor.
fn default_for(e: ElemType) -> Result<Tensor, Error> {
    Ok(match e {
        ElemType::String => Tensor::from_vec(&[1], vec![RString::from("_Unused")])?,
        ElemType::F32 => Tensor::from_vec(&[1], vec![-0.0f32])?,
        ElemType::F64 => Tensor::from_vec(&[1], vec![-0.0f64])?,
        e => crate::dispatch_int!(e, T => Tensor::from_vec(&[1], vec![(-1i64) as T]))?,
    })
}

crate::register!("LabelEncoder", "ai.onnx.ml", [1, LATEST], ANY, 0, build);
