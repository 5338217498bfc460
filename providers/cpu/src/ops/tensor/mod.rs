//! Shape and data-movement ops. Movement is written once over
//! [`Movable`](crate::util::Movable) words, so it covers every element type,
//! strings included.

mod center_crop_pad;
mod compress;
pub(crate) mod concat;
mod constant;
mod constant_of_shape;
mod depth_space;
mod expand;
mod eye_like;
mod flatten;
mod gather;
mod gather_elements;
mod gather_nd;
mod identity;
mod indexing;
mod non_zero;
mod one_hot;
mod pad;
mod range;
mod reshape;
mod reverse_sequence;
mod scatter_elements;
mod scatter_nd;
mod shape;
mod size;
mod slice;
mod split;
mod squeeze;
mod tensor_scatter;
mod tile;
mod top_k;
mod transpose;
mod trilu;
mod unique;
mod unsqueeze;

use ort_core::{Error, Tensor};

use crate::kernel::Ctx;
pub(crate) use crate::util::{ints_input, IntsArg};
use crate::util::{simplify_strided, strided_copy, view_at, Movable};

/// A tensor of `x`'s type and `out_shape` holding `x[base + Σ idx·strides]` over
/// `shape` (see [`strided_copy`]); a zero-copy view when that is one contiguous run.
pub(crate) fn strided(
    ctx: &Ctx<'_>,
    x: &Tensor,
    out_shape: &[i64],
    base: isize,
    shape: &[usize],
    strides: &[isize],
) -> Result<Tensor, Error> {
    let n: usize = shape.iter().product();
    let (sh, st) = simplify_strided(shape, strides);
    if n > 0 && (sh.is_empty() || (sh.len() == 1 && st[0] == 1)) {
        return view_at(x, base as usize, out_shape);
    }
    crate::dispatch_move!(x.elem(), T => {
        let src = T::elems_of(x)?;
        T::new_tensor(ctx, x.elem(), out_shape, |out| strided_copy(&src, base, shape, strides, out))
    })
}

/// Normalizes possibly negative axes against `rank`, rejecting repeats.
pub(crate) fn norm_axes(axes: &[i64], rank: usize) -> Result<Vec<usize>, Error> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let v = crate::util::axis(a, rank)?;
        if out.contains(&v) {
            return Err(Error::invalid(format!("axis {a} is repeated in {axes:?}")));
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ort_core::abi::{AttrValue, RString};
    use ort_core::{Element, Tensor, Value};

    use crate::testing::{attr, f32s, i64s, out_f32, run_node};

    fn t<T: Element>(shape: &[i64], d: Vec<T>) -> Option<Value> {
        Some(Value::Tensor(Tensor::from_vec(shape, d).unwrap()))
    }
    fn out<T: Element>(o: &[Option<Value>], i: usize) -> (Vec<i64>, Vec<T>) {
        let t = o[i].as_ref().unwrap().as_tensor().unwrap();
        (t.shape().to_vec(), t.to_vec().unwrap())
    }
    fn iota(n: usize) -> Vec<f32> {
        (0..n).map(|v| v as f32).collect()
    }
    fn ints(v: &[i64]) -> AttrValue<'static> {
        AttrValue::Ints(v.to_vec().into())
    }

    #[test]
    fn transpose_matches_naive_indexing() {
        // Large enough for the tiled and parallel paths.
        let d = [3usize, 70, 160];
        let x = iota(d.iter().product());
        for perm in [[2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0]] {
            let o = run_node(
                "Transpose",
                13,
                &[f32s(&[3, 70, 160], &x)],
                vec![attr("perm", ints(&perm))],
                1,
            )
            .unwrap();
            let (shape, got) = out_f32(&o, 0);
            let od: Vec<usize> = perm.iter().map(|&p| d[p as usize]).collect();
            assert_eq!(shape, od.iter().map(|&v| v as i64).collect::<Vec<_>>());
            let mut k = 0;
            for i in 0..od[0] {
                for j in 0..od[1] {
                    for l in 0..od[2] {
                        let mut idx = [0; 3];
                        (
                            idx[perm[0] as usize],
                            idx[perm[1] as usize],
                            idx[perm[2] as usize],
                        ) = (i, j, l);
                        assert_eq!(
                            got[k],
                            ((idx[0] * d[1] + idx[1]) * d[2] + idx[2]) as f32,
                            "perm {perm:?}"
                        );
                        k += 1;
                    }
                }
            }
        }
        let s = t(&[2, 2], ["a", "b", "c", "d"].map(RString::from).to_vec());
        let o = run_node("Transpose", 13, &[s], vec![], 1).unwrap();
        assert_eq!(
            out::<RString>(&o, 0).1,
            ["a", "c", "b", "d"].map(RString::from)
        );
    }

    #[test]
    fn reshape_family() {
        let x = f32s(&[2, 3, 4], &iota(24));
        let r = |shape: &[i64], az: i64| {
            run_node(
                "Reshape",
                14,
                &[x.clone(), i64s(&[shape.len() as i64], shape)],
                vec![attr("allowzero", AttrValue::Int(az))],
                1,
            )
        };
        assert_eq!(out_f32(&r(&[0, -1], 0).unwrap(), 0).0, [2, 12]);
        assert!(r(&[0, -1], 1).is_err());
        let o = run_node(
            "Flatten",
            13,
            std::slice::from_ref(&x),
            vec![attr("axis", AttrValue::Int(-1))],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0).0, [6, 4]);
        let o = run_node(
            "Unsqueeze",
            13,
            &[x.clone(), i64s(&[2], &[0, -1])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0).0, [1, 2, 3, 4, 1]);
        let o = run_node(
            "Squeeze",
            11,
            &[f32s(&[1, 3, 1], &[1., 2., 3.])],
            vec![attr("axes", ints(&[0]))],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0).0, [3, 1]);
        let o = run_node(
            "Shape",
            15,
            std::slice::from_ref(&x),
            vec![attr("start", AttrValue::Int(-2))],
            1,
        )
        .unwrap();
        assert_eq!(out::<i64>(&o, 0).1, [3, 4]);
        assert_eq!(
            out::<i64>(&run_node("Size", 13, &[x], vec![], 1).unwrap(), 0),
            (vec![], vec![24])
        );
    }

    #[test]
    fn slice_gather_concat_split() {
        let x = f32s(&[3, 4], &iota(12));
        let ins = [
            x.clone(),
            i64s(&[2], &[-1, i64::MAX]),
            i64s(&[2], &[i64::MIN, i64::MIN]),
            i64s(&[2], &[0, 1]),
            i64s(&[2], &[-2, -3]),
        ];
        let o = run_node("Slice", 13, &ins, vec![], 1).unwrap();
        assert_eq!(out_f32(&o, 0), (vec![2, 2], vec![11., 8., 3., 0.]));
        let o = run_node(
            "Gather",
            13,
            &[x.clone(), i64s(&[2], &[-1, 0])],
            vec![attr("axis", AttrValue::Int(1))],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0), (vec![3, 2], vec![3., 0., 7., 4., 11., 8.]));
        assert!(run_node("Gather", 13, &[x.clone(), i64s(&[1], &[3])], vec![], 1).is_err());
        let o = run_node(
            "Concat",
            13,
            &[x.clone(), f32s(&[3, 1], &[-1., -2., -3.])],
            vec![attr("axis", AttrValue::Int(1))],
            1,
        )
        .unwrap();
        assert_eq!(
            out_f32(&o, 0).1,
            [0., 1., 2., 3., -1., 4., 5., 6., 7., -2., 8., 9., 10., 11., -3.]
        );
        let o = run_node(
            "Split",
            18,
            std::slice::from_ref(&x),
            vec![
                attr("axis", AttrValue::Int(1)),
                attr("num_outputs", AttrValue::Int(3)),
            ],
            3,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0), (vec![3, 2], vec![0., 1., 4., 5., 8., 9.]));
        assert_eq!(out_f32(&o, 2), (vec![3, 0], vec![]));
        let o = run_node("Split", 13, &[x, i64s(&[2], &[1, 2])], vec![], 2).unwrap();
        assert_eq!(out_f32(&o, 1), (vec![2, 4], iota(12)[4..].to_vec()));
    }

    #[test]
    fn generators_and_repeats() {
        let o = run_node(
            "Expand",
            13,
            &[f32s(&[3, 1], &[1., 2., 3.]), i64s(&[3], &[2, 1, 2])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(
            out_f32(&o, 0),
            (
                vec![2, 3, 2],
                vec![1., 1., 2., 2., 3., 3., 1., 1., 2., 2., 3., 3.]
            )
        );
        let o = run_node(
            "Tile",
            13,
            &[f32s(&[2], &[1., 2.]), i64s(&[1], &[3])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0).1, [1., 2., 1., 2., 1., 2.]);
        let o = run_node(
            "Range",
            11,
            &[i64s(&[], &[10]), i64s(&[], &[1]), i64s(&[], &[-4])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out::<i64>(&o, 0).1, [10, 6, 2]);
        let v: &'static Tensor = Box::leak(Box::new(Tensor::from_vec(&[1], vec![7i32]).unwrap()));
        let o = run_node(
            "ConstantOfShape",
            9,
            &[i64s(&[2], &[2, 2])],
            vec![attr("value", AttrValue::Tensor(v))],
            1,
        )
        .unwrap();
        assert_eq!(out::<i32>(&o, 0), (vec![2, 2], vec![7; 4]));
        let o = run_node(
            "Constant",
            13,
            &[],
            vec![attr("value_ints", ints(&[4, 5]))],
            1,
        )
        .unwrap();
        assert_eq!(out::<i64>(&o, 0), (vec![2], vec![4, 5]));
        let o = run_node("Identity", 13, &[t(&[1], vec![true])], vec![], 1).unwrap();
        assert_eq!(out::<bool>(&o, 0).1, [true]);
    }
}
