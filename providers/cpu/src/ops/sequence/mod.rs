//! Sequences and optionals: SequenceConstruct/Insert/At/Erase/Length/Empty, SplitToSequence, ConcatFromSequence, Optional*.
//!
//! Sequence items are reference-counted tensors, so building, indexing and erasing
//! never copies element data; only SplitToSequence and ConcatFromSequence move bytes.

use ort_core::abi::RVec;
use ort_core::{ElemType, Error, Tensor, Value};

use crate::kernel::Ctx;
use crate::util::Movable;

mod concat_from_sequence;
mod optional;
mod optional_get_element;
mod optional_has_element;
mod sequence_at;
mod sequence_construct;
mod sequence_empty;
mod sequence_erase;
mod sequence_insert;
mod sequence_length;
mod split_to_sequence;

/// Input `i` as a sequence: its element type and items.
pub(crate) fn seq_input<'v>(
    inputs: &[Option<&'v Value>],
    i: usize,
) -> Result<(ElemType, &'v [Value]), Error> {
    match inputs.get(i).copied().flatten() {
        Some(Value::Sequence { elem, items }) => Ok((*elem, items.as_slice())),
        Some(other) => Err(Error::invalid(format!(
            "input {i} must be a sequence, got {}",
            other.describe()
        ))),
        None => Err(Error::invalid(format!("required input {i} is missing"))),
    }
}

/// A sequence value.
pub(crate) fn seq(elem: ElemType, items: Vec<Value>) -> Value {
    Value::Sequence {
        elem,
        items: RVec::from(items),
    }
}

/// The element type a sequence holds: its declared type, or its first item's.
pub(crate) fn item_elem(v: &Value) -> ElemType {
    match v {
        Value::Tensor(t) => t.elem(),
        Value::Sequence { elem, .. } => *elem,
        _ => ElemType::Undefined,
    }
}

/// A sequence position from an optional scalar integer tensor. Negative positions
/// count from the back; the accepted range is `[-len, len)`, or `[-len, len]` when
/// `end_ok` (insertion may append). `None` gives `default`.
pub(crate) fn position(
    t: Option<&Tensor>,
    len: usize,
    end_ok: bool,
    default: usize,
) -> Result<usize, Error> {
    let Some(t) = t else {
        return Ok(default);
    };
    if !matches!(t.elem(), ElemType::I32 | ElemType::I64) {
        return Err(Error::invalid(format!(
            "position must be int32 or int64, got {}",
            t.elem()
        )));
    }
    let v = t.to_i64_vec()?;
    if v.len() != 1 {
        return Err(Error::invalid(format!(
            "position must be a scalar, has {} elements",
            v.len()
        )));
    }
    let n = len as i64;
    let p = v[0];
    let hi = if end_ok { n } else { n - 1 };
    if p < -n || p > hi {
        return Err(Error::invalid(format!(
            "position {p} is out of range for a sequence of length {len}"
        )));
    }
    Ok(if p < 0 { p + n } else { p } as usize)
}

/// Copies `count` slices starting at `start` along `axis` of `t`; `squeeze` drops the
/// axis (only when `count` is 1).
pub(crate) fn slice_axis(
    ctx: &Ctx<'_>,
    t: &Tensor,
    axis: usize,
    start: usize,
    count: usize,
    squeeze: bool,
) -> Result<Tensor, Error> {
    let shape = t.shape();
    let len = shape[axis] as usize;
    let outer: usize = shape[..axis].iter().product::<i64>() as usize;
    let inner: usize = shape[axis + 1..].iter().product::<i64>() as usize;
    let mut out_shape = shape.to_vec();
    if squeeze {
        out_shape.remove(axis);
    } else {
        out_shape[axis] = count as i64;
    }
    let chunk = count * inner;
    crate::dispatch_move!(t.elem(), T => {
        let src = T::elems_of(t)?;
        T::new_tensor(ctx, t.elem(), &out_shape, |out| {
            if chunk == 0 {
                return;
            }
            for (o, dst) in out.chunks_mut(chunk).enumerate().take(outer) {
                let from = (o * len + start) * inner;
                dst.clone_from_slice(&src[from..from + chunk]);
            }
        })
    })
}

/// Checks that a value may join a sequence of element type `elem`.
pub(crate) fn check_item(elem: ElemType, v: &Value) -> Result<(), Error> {
    let e = item_elem(v);
    if elem != ElemType::Undefined && e != ElemType::Undefined && e != elem {
        return Err(Error::invalid(format!(
            "a sequence of {elem} cannot hold {}",
            v.describe()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::seq;
    use crate::testing::{attr, f32s, i64s, run_node};
    use ort_core::abi::AttrValue;
    use ort_core::{ElemType, Tensor, Value};

    fn t(v: &Option<Value>) -> &Tensor {
        v.as_ref().unwrap().as_tensor().unwrap()
    }

    fn items(v: &Option<Value>) -> Vec<Value> {
        match v {
            Some(Value::Sequence { items, .. }) => items.to_vec(),
            other => panic!("not a sequence: {other:?}"),
        }
    }

    fn sample() -> Value {
        let a = Tensor::from_vec(&[2], vec![1f32, 2.]).unwrap();
        let b = Tensor::from_vec(&[2], vec![3f32, 4.]).unwrap();
        let c = Tensor::from_vec(&[2], vec![5f32, 6.]).unwrap();
        seq(ElemType::F32, vec![a.into(), b.into(), c.into()])
    }

    #[test]
    fn at_erase_length() {
        let s = Some(sample());
        let outs = run_node("SequenceAt", 11, &[s.clone(), i64s(&[], &[-1])], vec![], 1).unwrap();
        assert_eq!(t(&outs[0]).to_vec::<f32>().unwrap(), vec![5., 6.]);
        assert!(run_node("SequenceAt", 11, &[s.clone(), i64s(&[], &[3])], vec![], 1).is_err());
        let outs = run_node(
            "SequenceErase",
            11,
            &[s.clone(), i64s(&[], &[0])],
            vec![],
            1,
        )
        .unwrap();
        let left = items(&outs[0]);
        assert_eq!(left.len(), 2);
        assert_eq!(
            left[0].as_tensor().unwrap().to_vec::<f32>().unwrap(),
            vec![3., 4.]
        );
        let outs = run_node("SequenceErase", 11, std::slice::from_ref(&s), vec![], 1).unwrap();
        let left = items(&outs[0]);
        assert_eq!(
            left[1].as_tensor().unwrap().to_vec::<f32>().unwrap(),
            vec![3., 4.]
        );
        let outs = run_node("SequenceLength", 11, &[s], vec![], 1).unwrap();
        assert_eq!(t(&outs[0]).to_vec::<i64>().unwrap(), vec![3]);
    }

    #[test]
    fn insert_checks_type() {
        let s = Some(sample());
        let outs = run_node(
            "SequenceInsert",
            11,
            &[s.clone(), f32s(&[1], &[9.]), i64s(&[], &[1])],
            vec![],
            1,
        )
        .unwrap();
        let all = items(&outs[0]);
        assert_eq!(all.len(), 4);
        assert_eq!(
            all[1].as_tensor().unwrap().to_vec::<f32>().unwrap(),
            vec![9.]
        );
        assert!(run_node("SequenceInsert", 11, &[s, i64s(&[1], &[9])], vec![], 1).is_err());
    }

    #[test]
    fn empty_has_dtype() {
        let outs = run_node(
            "SequenceEmpty",
            11,
            &[],
            vec![attr("dtype", AttrValue::Int(7))],
            1,
        )
        .unwrap();
        match &outs[0] {
            Some(Value::Sequence { elem, items }) => {
                assert_eq!(*elem, ElemType::I64);
                assert!(items.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn concat_and_stack() {
        let s = Some(sample());
        let outs = run_node(
            "ConcatFromSequence",
            11,
            std::slice::from_ref(&s),
            vec![attr("axis", AttrValue::Int(0))],
            1,
        )
        .unwrap();
        assert_eq!(t(&outs[0]).shape(), &[6]);
        let outs = run_node(
            "ConcatFromSequence",
            11,
            &[s],
            vec![
                attr("axis", AttrValue::Int(-1)),
                attr("new_axis", AttrValue::Int(1)),
            ],
            1,
        )
        .unwrap();
        assert_eq!(t(&outs[0]).shape(), &[2, 3]);
        assert_eq!(
            t(&outs[0]).to_vec::<f32>().unwrap(),
            vec![1., 3., 5., 2., 4., 6.]
        );
    }

    #[test]
    fn split_variants() {
        let x = f32s(&[2, 5], &[0., 1., 2., 3., 4., 5., 6., 7., 8., 9.]);
        let outs = run_node(
            "SplitToSequence",
            11,
            &[x.clone(), i64s(&[], &[2])],
            vec![attr("axis", AttrValue::Int(1))],
            1,
        )
        .unwrap();
        let parts = items(&outs[0]);
        let shapes: Vec<Vec<i64>> = parts
            .iter()
            .map(|p| p.as_tensor().unwrap().shape().to_vec())
            .collect();
        assert_eq!(shapes, vec![vec![2, 2], vec![2, 2], vec![2, 1]]);
        assert_eq!(
            parts[2].as_tensor().unwrap().to_vec::<f32>().unwrap(),
            vec![4., 9.]
        );
        let outs = run_node(
            "SplitToSequence",
            11,
            std::slice::from_ref(&x),
            vec![attr("keepdims", AttrValue::Int(0))],
            1,
        )
        .unwrap();
        let parts = items(&outs[0]);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].as_tensor().unwrap().shape(), &[5]);
        assert!(run_node("SplitToSequence", 11, &[x, i64s(&[2], &[1, 2])], vec![], 1).is_err());
    }

    #[test]
    fn optionals() {
        let empty = run_node(
            "Optional",
            15,
            &[None],
            vec![attr("type", AttrValue::Type(ort_core::TypeInfo::Unknown))],
            1,
        )
        .unwrap();
        let e = empty[0].clone();
        let has = run_node(
            "OptionalHasElement",
            18,
            std::slice::from_ref(&e),
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(t(&has[0]).to_vec::<bool>().unwrap(), vec![false]);
        assert!(run_node("OptionalGetElement", 18, &[e], vec![], 1).is_err());
        let full = run_node("Optional", 15, &[f32s(&[1], &[2.])], vec![], 1).unwrap();
        let got = run_node("OptionalGetElement", 15, &[full[0].clone()], vec![], 1).unwrap();
        assert_eq!(t(&got[0]).to_vec::<f32>().unwrap(), vec![2.]);
        let has = run_node("OptionalHasElement", 18, &[None], vec![], 1).unwrap();
        assert_eq!(t(&has[0]).to_vec::<bool>().unwrap(), vec![false]);
    }
}
