//! What the ai.onnx.ml kernels share: features as f32 rows, score post-transforms as
//! onnxruntime applies them, and the entries of a map input.

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Tensor, Value};

use super::tree::{rows_cols, Post};

/// A `[N, F]` (or `[F]`) numeric input as f32 rows: (rows, features, data). The
/// linear and SVM models compute in f32, as onnxruntime does.
pub(crate) fn f32_rows(x: &Tensor) -> Result<(usize, usize, Vec<f32>), Error> {
    if x.shape().is_empty() {
        return Err(Error::invalid("input must have rank 1 or more"));
    }
    let (rows, cols) = rows_cols(x.shape())?;
    let data = match x.elem() {
        ElemType::F32 => x.as_slice::<f32>()?.to_vec(),
        ElemType::F64 | ElemType::I32 | ElemType::I64 => {
            x.to_f64_vec()?.into_iter().map(|v| v as f32).collect()
        }
        e => return Err(Error::invalid(format!("unsupported input type {e}"))),
    };
    Ok((rows, cols, data))
}

/// `y[r, t] = x[r] · w[t] + b[t]` for `[rows, f]` x and `[k, f]` w.
pub(crate) fn dot_rows(x: &[f32], w: &[f32], b: &[f32], f: usize, k: usize) -> Vec<f32> {
    let mut y = Vec::with_capacity(x.len() / f.max(1) * k);
    for row in x.chunks_exact(f.max(1)) {
        for t in 0..k {
            let wt = &w[t * f..(t + 1) * f];
            let s: f32 = row.iter().zip(wt).map(|(a, b)| a * b).sum();
            y.push(s + b.get(t).copied().unwrap_or(0.0));
        }
    }
    y
}

/// Applies `post` to each `k`-score row, as onnxruntime does without an added
/// second class: one score per row takes only PROBIT.
pub(crate) fn post_rows(scores: &mut [f32], k: usize, post: Post) {
    if k == 0 || post == Post::None || (k == 1 && post != Post::Probit) {
        return;
    }
    let mut row = vec![0f64; k];
    for s in scores.chunks_exact_mut(k) {
        row.iter_mut()
            .zip(s.iter())
            .for_each(|(r, &v)| *r = v as f64);
        post.apply(&mut row);
        s.iter_mut().zip(&row).for_each(|(v, &r)| *v = r as f32);
    }
}

/// One score turned into a pair, as onnxruntime completes a binary model's second
/// class: probabilities complete to 1, margins mirror.
pub(crate) fn second_class(s: f32, margins: bool) -> [f32; 2] {
    if margins {
        [-s, s]
    } else {
        [1.0 - s, s]
    }
}

/// A map's values, by kind.
pub(crate) enum MapValues {
    Floats(Vec<f64>),
    Ints(Vec<i64>),
    Strs(Vec<String>),
}

/// The keys and values of a map input, values in key order as stored.
pub(crate) fn map_entries(v: Option<&Value>) -> Result<(&Tensor, ElemType, MapValues), Error> {
    let Some(Value::Map { keys, values }) = v else {
        return Err(Error::invalid("input 0 must be a map"));
    };
    let scalars: Vec<&Tensor> = match &**values {
        Value::Tensor(t) => vec![t],
        Value::Sequence { items, .. } => {
            items.iter().map(|i| i.tensor()).collect::<Result<_, _>>()?
        }
        other => {
            return Err(Error::invalid(format!(
                "map values must be tensors, got a {}",
                other.kind_name()
            )))
        }
    };
    let elem = scalars.first().map_or(ElemType::F32, |t| t.elem());
    let vals = match elem {
        ElemType::String => MapValues::Strs(
            scalars
                .iter()
                .map(|t| {
                    Ok(t.as_slice::<RString>()?
                        .iter()
                        .map(|s| s.as_str().to_string()))
                })
                .collect::<Result<Vec<_>, Error>>()?
                .into_iter()
                .flatten()
                .collect(),
        ),
        e if e.is_float() => MapValues::Floats(
            scalars
                .iter()
                .map(|t| t.to_f64_vec())
                .collect::<Result<Vec<_>, _>>()?
                .concat(),
        ),
        _ => MapValues::Ints(
            scalars
                .iter()
                .map(|t| t.to_i64_vec())
                .collect::<Result<Vec<_>, _>>()?
                .concat(),
        ),
    };
    let n = match &vals {
        MapValues::Floats(v) => v.len(),
        MapValues::Ints(v) => v.len(),
        MapValues::Strs(v) => v.len(),
    };
    if n != keys.len() {
        return Err(Error::invalid(format!(
            "map has {} keys but {n} values",
            keys.len()
        )));
    }
    Ok((keys, elem, vals))
}
