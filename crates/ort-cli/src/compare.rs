//! Comparing outputs with references: floats within `atol + rtol * |ref|` (NaN equals
//! NaN), everything else exactly.

use ort_core::{ElemType, RString, Tensor, Value};

#[derive(Clone, Copy)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
}

pub fn values(got: &Value, want: &Value, tol: Tolerance) -> Result<(), String> {
    match (got, want) {
        (Value::Tensor(a), Value::Tensor(b)) => tensors(a, b, tol),
        (Value::Sequence { items: a, .. }, Value::Sequence { items: b, .. }) => {
            if a.len() != b.len() {
                return Err(format!("sequence length {} != {}", a.len(), b.len()));
            }
            a.iter()
                .zip(b.iter())
                .enumerate()
                .try_for_each(|(i, (x, y))| values(x, y, tol).map_err(|e| format!("item {i}: {e}")))
        }
        (Value::Optional(a), Value::Optional(b)) => {
            match (a.as_ref().into_option(), b.as_ref().into_option()) {
                (None, None) => Ok(()),
                (Some(x), Some(y)) => values(x, y, tol),
                (x, _) => Err(format!(
                    "optional {} but expected {}",
                    if x.is_some() {
                        "has a value"
                    } else {
                        "is empty"
                    },
                    if x.is_some() { "empty" } else { "a value" }
                )),
            }
        }
        (
            Value::Map {
                keys: ka,
                values: va,
            },
            Value::Map {
                keys: kb,
                values: vb,
            },
        ) => maps((ka, va), (kb, vb), tol),
        // A reference optional holding a tensor may be compared with a plain tensor.
        (v, Value::Optional(b)) if b.is_some() => values(v, b.as_ref().unwrap(), tol),
        (Value::Optional(a), w) if a.is_some() => values(a.as_ref().unwrap(), w, tol),
        (a, b) => Err(format!(
            "got a {}, expected a {}",
            a.kind_name(),
            b.kind_name()
        )),
    }
}

/// Maps compare as sets of entries: the same keys, and equal values per key, in any
/// order (onnxruntime's maps come out sorted by key, a model's in label order).
fn maps(got: (&Tensor, &Value), want: (&Tensor, &Value), tol: Tolerance) -> Result<(), String> {
    if got.0.elem() != want.0.elem() || got.0.len() != want.0.len() {
        return Err(format!(
            "map of {} {} keys, expected {} {} keys",
            got.0.len(),
            got.0.elem(),
            want.0.len(),
            want.0.elem()
        ));
    }
    // Entries by key (as text), each with its position in the map.
    let sorted = |k: &Tensor| -> Result<Vec<(String, usize)>, String> {
        let text: Vec<String> = if k.elem() == ElemType::String {
            let s = k.as_slice::<RString>().map_err(|e| e.to_string())?;
            s.iter().map(|s| s.as_str().to_string()).collect()
        } else {
            let i = k.to_i64_vec().map_err(|e| e.to_string())?;
            i.iter().map(|i| i.to_string()).collect()
        };
        let mut v: Vec<(String, usize)> = text.into_iter().zip(0..).collect();
        v.sort();
        Ok(v)
    };
    let (a, b) = (sorted(got.0)?, sorted(want.0)?);
    match (got.1, want.1) {
        (Value::Sequence { items: x, .. }, Value::Sequence { items: y, .. })
            if x.len() == a.len() && y.len() == b.len() =>
        {
            a.iter().zip(&b).try_for_each(|((ka, ia), (kb, ib))| {
                if ka != kb {
                    return Err(format!("map key {ka:?}, expected {kb:?}"));
                }
                values(&x[*ia], &y[*ib], tol).map_err(|e| format!("key {ka}: {e}"))
            })
        }
        (x, y) => {
            if a.iter().zip(&b).any(|(p, q)| p != q) {
                return Err("map keys differ".into());
            }
            values(x, y, tol)
        }
    }
}

fn floats(t: &Tensor) -> Option<Vec<f64>> {
    matches!(
        t.elem(),
        ElemType::F32 | ElemType::F64 | ElemType::F16 | ElemType::BF16
    )
    .then(|| t.to_f64_vec().ok())
    .flatten()
}

pub fn tensors(got: &Tensor, want: &Tensor, tol: Tolerance) -> Result<(), String> {
    if got.elem() != want.elem() {
        return Err(format!(
            "element type {} != expected {}",
            got.elem(),
            want.elem()
        ));
    }
    if got.shape() != want.shape() {
        return Err(format!(
            "shape {:?} != expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    if let (Some(a), Some(b)) = (floats(got), floats(want)) {
        let mut bad = 0usize;
        let mut worst = (0usize, 0f64, 0f64);
        for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
            let ok = (x.is_nan() && y.is_nan())
                || x == y
                || (x - y).abs() <= tol.atol + tol.rtol * y.abs();
            if !ok {
                if bad == 0 || (x - y).abs() > (worst.1 - worst.2).abs() {
                    worst = (i, x, y);
                }
                bad += 1;
            }
        }
        if bad > 0 {
            return Err(format!(
                "{bad} of {} values differ; worst at {}: got {}, expected {}",
                a.len(),
                worst.0,
                worst.1,
                worst.2
            ));
        }
        return Ok(());
    }
    if got.elem() == ElemType::Complex64 || got.elem() == ElemType::Complex128 {
        let (a, b) = (got.bytes().unwrap_or(&[]), want.bytes().unwrap_or(&[]));
        let (xa, xb): (Vec<f64>, Vec<f64>) = if got.elem() == ElemType::Complex64 {
            (
                a.chunks(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect(),
                b.chunks(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect(),
            )
        } else {
            (
                a.chunks(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
                b.chunks(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            )
        };
        return match xa.iter().zip(&xb).position(|(x, y)| {
            !((x - y).abs() <= tol.atol + tol.rtol * y.abs() || (x.is_nan() && y.is_nan()))
        }) {
            None => Ok(()),
            Some(i) => Err(format!("value {i}: got {}, expected {}", xa[i], xb[i])),
        };
    }
    if got.elem() == ElemType::String {
        let (a, b) = (
            got.as_slice::<RString>().map_err(|e| e.to_string())?,
            want.as_slice::<RString>().map_err(|e| e.to_string())?,
        );
        return match a.iter().zip(b).position(|(x, y)| x != y) {
            None => Ok(()),
            Some(i) => Err(format!(
                "string {i}: got {:?}, expected {:?}",
                a[i].as_str(),
                b[i].as_str()
            )),
        };
    }
    let (a, b) = (got.bytes().unwrap_or(&[]), want.bytes().unwrap_or(&[]));
    if a != b {
        let es = got.elem().size().max(1);
        let i = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0) / es;
        return Err(format!(
            "element {i} differs (exact comparison for {})",
            got.elem()
        ));
    }
    Ok(())
}
