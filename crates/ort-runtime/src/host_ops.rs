//! The few tensor operations the host itself needs for control flow: taking a slice
//! along an axis (Scan inputs) and stacking slices along a new axis (Loop and Scan
//! outputs). Byte-generic, so every element type works; strings are cloned.

use ort_core::{ElemType, RString, Tensor};

use crate::error::{Error, Result};

fn err(e: ort_core::Error) -> Error {
    Error::run(e.to_string())
}

/// `t` with `axis` removed, at position `index` along it.
pub fn take(t: &Tensor, axis: usize, index: usize) -> Result<Tensor> {
    let shape = t.shape();
    let outer: usize = shape[..axis].iter().product::<i64>() as usize;
    let inner: usize = shape[axis + 1..].iter().product::<i64>() as usize;
    let n = shape[axis] as usize;
    let mut out_shape = shape.to_vec();
    out_shape.remove(axis);
    if t.elem() == ElemType::String {
        let s = t.as_slice::<RString>().map_err(err)?;
        let v: Vec<RString> = (0..outer)
            .flat_map(|o| s[(o * n + index) * inner..][..inner].iter().cloned())
            .collect();
        return Tensor::from_vec(&out_shape, v).map_err(err);
    }
    let es = t.elem().size();
    let b = t
        .bytes()
        .ok_or_else(|| Error::run("control flow needs host tensors"))?;
    let mut v = Vec::with_capacity(outer * inner * es);
    for o in 0..outer {
        v.extend_from_slice(&b[((o * n + index) * inner) * es..][..inner * es]);
    }
    Tensor::from_bytes(t.elem(), &out_shape, v).map_err(err)
}

/// Stacks equal-shaped tensors along a new `axis`.
pub fn stack(items: &[Tensor], axis: usize) -> Result<Tensor> {
    let first = items
        .first()
        .ok_or_else(|| Error::run("nothing to stack"))?;
    let shape = first.shape();
    if items
        .iter()
        .any(|t| t.shape() != shape || t.elem() != first.elem())
    {
        return Err(Error::run(
            "stacked iteration outputs differ in shape or type",
        ));
    }
    let outer: usize = shape[..axis].iter().product::<i64>() as usize;
    let inner: usize = shape[axis..].iter().product::<i64>() as usize;
    let mut out_shape = shape.to_vec();
    out_shape.insert(axis, items.len() as i64);
    if first.elem() == ElemType::String {
        let slices: Vec<&[RString]> = items
            .iter()
            .map(|t| t.as_slice::<RString>())
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let v: Vec<RString> = (0..outer)
            .flat_map(|o| {
                slices
                    .iter()
                    .flat_map(move |s| s[o * inner..][..inner].iter().cloned())
            })
            .collect();
        return Tensor::from_vec(&out_shape, v).map_err(err);
    }
    let es = first.elem().size();
    let bytes: Vec<&[u8]> = items
        .iter()
        .map(|t| {
            t.bytes()
                .ok_or_else(|| Error::run("control flow needs host tensors"))
        })
        .collect::<Result<_>>()?;
    let mut v = Vec::with_capacity(outer * inner * es * items.len());
    for o in 0..outer {
        for b in &bytes {
            v.extend_from_slice(&b[o * inner * es..][..inner * es]);
        }
    }
    Tensor::from_bytes(first.elem(), &out_shape, v).map_err(err)
}

/// Reverses a stacked tensor along `axis` (Scan outputs in reverse direction).
pub fn reverse(items: &mut [Tensor]) {
    items.reverse();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_and_stack_round_trip() {
        let t = Tensor::from_vec(&[2, 3], vec![1i32, 2, 3, 4, 5, 6]).unwrap();
        let cols: Vec<Tensor> = (0..3).map(|i| take(&t, 1, i).unwrap()).collect();
        assert_eq!(cols[1].to_vec::<i32>().unwrap(), vec![2, 5]);
        let back = stack(&cols, 1).unwrap();
        assert_eq!(back.shape(), &[2, 3]);
        assert_eq!(back.to_vec::<i32>().unwrap(), vec![1, 2, 3, 4, 5, 6]);
    }
}
