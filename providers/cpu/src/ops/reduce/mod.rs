//! Reductions over axes (ReduceSum, ReduceMean, ...) and ArgMax/ArgMin.

mod log_abs;

use ort_core::ElemType::{self, *};
use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::parallel::{for_each_chunk, pool_threads};
use crate::util::{par_map, IntsArg, Num, PAR_MIN_LEN};

/// ReduceMax/ReduceMin also take bools (opset 20).
pub(crate) const NUMERIC_BOOL: &[ElemType] = &[
    F32, F64, F16, BF16, I8, I16, I32, I64, U8, U16, U32, U64, Bool,
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    L2,
    SumSquare,
}

/// A Reduce* kernel. Axes are an attribute before `axes_input_since` and an optional
/// input from then on; no axes means all of them unless `noop_with_empty_axes`.
pub(crate) struct Reduce {
    kind: Kind,
    axes: IntsArg,
    keepdims: bool,
    noop: bool,
}

impl Reduce {
    pub fn build(
        n: &NodeInfo<'_, '_>,
        kind: Kind,
        axes_input_since: i64,
    ) -> Result<Box<dyn Kernel>, Error> {
        Ok(Box::new(Reduce {
            kind,
            axes: IntsArg::new(n, "axes", axes_input_since, 1)?,
            keepdims: n.int("keepdims", 1)? != 0,
            noop: n.int("noop_with_empty_axes", 0)? != 0,
        }))
    }
}

/// The input's dimensions with unit ones dropped and neighbours of the same kind
/// (reduced or kept) merged: `(size, reduced)` from outermost to innermost.
fn groups(shape: &[i64], reduced: &[bool]) -> Vec<(usize, bool)> {
    let mut g: Vec<(usize, bool)> = Vec::new();
    for (&d, &r) in shape.iter().zip(reduced) {
        match g.last_mut() {
            _ if d == 1 => {}
            Some((s, pr)) if *pr == r => *s *= d as usize,
            _ => g.push((d as usize, r)),
        }
    }
    g
}

/// Folds a contiguous run with eight independent accumulators, which lets the
/// compiler vectorize and keeps float sums more accurate than one long chain.
#[inline]
fn fold_row<T: Copy, A: Copy>(
    row: &[T],
    init: A,
    step: &impl Fn(A, T) -> A,
    merge: &impl Fn(A, A) -> A,
) -> A {
    let mut lanes = [init; 8];
    let mut it = row.chunks_exact(8);
    for c in &mut it {
        for k in 0..8 {
            lanes[k] = step(lanes[k], c[k]);
        }
    }
    let a = it.remainder().iter().fold(init, |a, &x| step(a, x));
    lanes.into_iter().fold(a, merge)
}

/// One accumulator per output element, folded over the reduced elements.
fn run<T: Copy + Sync, A: Copy + Send + Sync>(
    x: &[T],
    g: &[(usize, bool)],
    n_out: usize,
    init: A,
    step: impl Fn(A, T) -> A + Sync,
    merge: impl Fn(A, A) -> A + Sync,
) -> Vec<A> {
    let mut acc = vec![init; n_out];
    if x.is_empty() {
        return acc;
    }
    let par = x.len() >= PAR_MIN_LEN;
    // The common layouts are [kept, reduced, kept] with either kept part possibly 1.
    let kr = match g {
        [] => Some((1, 1, 1)),
        [(k, false)] => Some((*k, 1, 1)),
        [(r, true)] => Some((1, *r, 1)),
        [(k, false), (r, true)] => Some((*k, *r, 1)),
        [(r, true), (k, false)] => Some((1, *r, *k)),
        [(a, false), (r, true), (b, false)] => Some((*a, *r, *b)),
        _ => None,
    };
    match kr {
        Some((_, r, 1)) => {
            let f = |(i, o): (usize, &mut A)| {
                *o = fold_row(&x[i * r..(i + 1) * r], init, &step, &merge)
            };
            let threads = if par { pool_threads() } else { 1 };
            for_each_chunk(threads, &mut acc, 1, |i, o| f((i, &mut o[0])));
        }
        Some((k0, r, k1)) => {
            // Rows of k1 accumulate column-wise; split work by outer block, or by
            // column ranges when there is a single block.
            let cols = if k0 == 1 && par {
                k1.div_ceil(pool_threads()).max(64)
            } else {
                k1
            };
            let f = |(c, o): (usize, &mut [A])| {
                let (i, j0) = ((c * cols) / k1, (c * cols) % k1);
                for rr in 0..r {
                    let row = &x[(i * r + rr) * k1 + j0..][..o.len()];
                    o.iter_mut().zip(row).for_each(|(a, &v)| *a = step(*a, v));
                }
            };
            if par {
                for_each_chunk(pool_threads(), &mut acc, cols, |c, o| f((c, o)));
            } else {
                acc.chunks_mut(cols).enumerate().for_each(f);
            }
        }
        None => general(x, g, &mut acc, init, &step, &merge),
    }
    acc
}

/// Any other layout: walk the input in runs of its innermost group.
fn general<T: Copy, A: Copy>(
    x: &[T],
    g: &[(usize, bool)],
    acc: &mut [A],
    init: A,
    step: &impl Fn(A, T) -> A,
    merge: &impl Fn(A, A) -> A,
) {
    let (&(len, last_red), outer) = g.split_last().expect("general layouts have groups");
    let mut ostride = vec![0usize; g.len()];
    let mut s = 1;
    for i in (0..g.len()).rev() {
        if !g[i].1 {
            ostride[i] = s;
            s *= g[i].0;
        }
    }
    let mut idx = vec![0usize; outer.len()];
    for run in x.chunks(len) {
        let o: usize = idx.iter().zip(&ostride).map(|(i, s)| i * s).sum();
        if last_red {
            acc[o] = merge(acc[o], fold_row(run, init, step, merge));
        } else {
            acc[o..o + len]
                .iter_mut()
                .zip(run)
                .for_each(|(a, &v)| *a = step(*a, v));
        }
        for i in (0..outer.len()).rev() {
            idx[i] += 1;
            if idx[i] < outer[i].0 {
                break;
            }
            idx[i] = 0;
        }
    }
}

/// Runs `kind` over `x` (grouped as `g`), producing `n_out` values; `n` elements
/// fold into each. Floats accumulate in f64; integers wrap in their own type.
fn reduce<T: Num>(kind: Kind, x: &[T], g: &[(usize, bool)], n_out: usize, n: usize, out: &mut [T]) {
    let float = T::TYPE.is_float();
    let nf = n as f64;
    macro_rules! go {
        ($init:expr, $step:expr, $merge:expr, $fin:expr) => {{
            let acc = run(x, g, n_out, $init, $step, $merge);
            par_map(out, &acc, $fin);
        }};
    }
    let fsum = |a: f64, b: f64| a + b;
    let wsum = |a: T, b: T| a.wadd(b);
    match kind {
        Kind::Sum | Kind::Mean if float => {
            go!(0.0, |a, v: T| a + v.to_f64(), fsum, |a: f64| T::from_f64(
                if kind == Kind::Mean { a / nf } else { a }
            ))
        }
        Kind::Sum => go!(T::ZERO, wsum, wsum, |a| a),
        Kind::Mean => go!(T::ZERO, wsum, wsum, |a: T| T::from_f64(a.to_f64() / nf)),
        Kind::SumSquare | Kind::L2 if float => go!(
            0.0,
            |a, v: T| a + v.to_f64() * v.to_f64(),
            fsum,
            |a: f64| { T::from_f64(if kind == Kind::L2 { a.sqrt() } else { a }) }
        ),
        Kind::SumSquare => go!(T::ZERO, |a: T, v: T| a.wadd(v.wmul(v)), wsum, |a| a),
        Kind::L2 => go!(T::ZERO, |a: T, v: T| a.wadd(v.wmul(v)), wsum, |a: T| {
            T::from_f64(a.to_f64().sqrt())
        }),
        Kind::Prod if float => go!(
            1.0,
            |a, v: T| a * v.to_f64(),
            |a: f64, b: f64| a * b,
            T::from_f64
        ),
        Kind::Prod => go!(
            T::ONE,
            |a: T, v: T| a.wmul(v),
            |a: T, b: T| a.wmul(b),
            |a| a
        ),
        // NaN wins, as in numpy.
        Kind::Max => {
            let m = |a: T, v: T| if v > a || v.is_nan() { v } else { a };
            go!(T::LOWEST, m, m, |a| a)
        }
        Kind::Min => {
            let m = |a: T, v: T| if v < a || v.is_nan() { v } else { a };
            go!(T::HIGHEST, m, m, |a| a)
        }
    }
}

impl Kernel for Reduce {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let r = x.rank();
        let axes = self.axes.get(inputs)?.unwrap_or_default();
        if axes.is_empty() && self.noop {
            return one(x.clone());
        }
        let reduced: Vec<bool> = if axes.is_empty() {
            vec![true; r]
        } else {
            let a = crate::ops::tensor::norm_axes(&axes, r)?;
            (0..r).map(|i| a.contains(&i)).collect()
        };
        let mut shape = Vec::with_capacity(r);
        for (i, &d) in x.shape().iter().enumerate() {
            if !reduced[i] {
                shape.push(d);
            } else if self.keepdims {
                shape.push(1);
            }
        }
        let n_out = shape.iter().product::<i64>() as usize;
        let n = (0..r)
            .filter(|&i| reduced[i])
            .map(|i| x.shape()[i])
            .product::<i64>() as usize;
        let g = groups(x.shape(), &reduced);
        let kind = self.kind;
        if x.elem() == ElemType::Bool && matches!(kind, Kind::Max | Kind::Min) {
            let max = kind == Kind::Max;
            let f = move |a: bool, v: bool| if max { a | v } else { a & v };
            return one(
                ctx.tensor_from(&shape, &run(x.as_slice::<bool>()?, &g, n_out, !max, f, f))?
            );
        }
        one(crate::dispatch_numeric!(x.elem(), T => {
            let src = x.as_slice::<T>()?;
            ctx.tensor(&shape, |o: &mut [T]| reduce(kind, src, &g, n_out, n, o))
        })?)
    }
}

/// ArgMax/ArgMin along one axis; ties go to the first index unless
/// `select_last_index`.
pub(crate) struct ArgReduce {
    max: bool,
    axis: i64,
    keepdims: bool,
    last: bool,
}

impl ArgReduce {
    pub fn build(n: &NodeInfo<'_, '_>, max: bool) -> Result<Box<dyn Kernel>, Error> {
        Ok(Box::new(ArgReduce {
            max,
            axis: n.int("axis", 0)?,
            keepdims: n.int("keepdims", 1)? != 0,
            last: n.int("select_last_index", 0)? != 0,
        }))
    }
}

fn arg<T: Num>(
    x: &[T],
    outer: usize,
    r: usize,
    inner: usize,
    max: bool,
    last: bool,
    out: &mut [i64],
) {
    let better = |v: T, b: T| {
        if max {
            v > b || (last && v == b)
        } else {
            v < b || (last && v == b)
        }
    };
    let mut best: Vec<T> = Vec::with_capacity(inner);
    for (o, dst) in out.chunks_mut(inner).enumerate().take(outer) {
        let block = &x[o * r * inner..(o + 1) * r * inner];
        best.clear();
        best.extend_from_slice(&block[..inner]);
        dst.fill(0);
        for k in 1..r {
            let row = &block[k * inner..(k + 1) * inner];
            for j in 0..inner {
                if better(row[j], best[j]) {
                    best[j] = row[j];
                    dst[j] = k as i64;
                }
            }
        }
    }
}

impl Kernel for ArgReduce {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let a = crate::util::axis(self.axis, x.rank())?;
        let dims = x.shape();
        if dims.get(a).is_none_or(|&d| d == 0) {
            return Err(Error::invalid(format!(
                "cannot take Arg{} over an empty axis",
                if self.max { "Max" } else { "Min" }
            )));
        }
        let outer = dims[..a].iter().product::<i64>() as usize;
        let inner = dims[a + 1..].iter().product::<i64>() as usize;
        let mut shape = dims.to_vec();
        if self.keepdims {
            shape[a] = 1;
        } else {
            shape.remove(a);
        }
        let (max, last, r) = (self.max, self.last, dims[a] as usize);
        one(crate::dispatch_numeric!(x.elem(), T => {
            let src = x.as_slice::<T>()?;
            ctx.tensor(&shape, |o: &mut [i64]| if inner > 0 { arg(src, outer, r, inner, max, last, o) })
        })?)
    }
}

crate::register!("ArgMax", [1, LATEST], NUMERIC, |n| ArgReduce::build(
    n, true
));
crate::register!("ArgMin", [1, LATEST], NUMERIC, |n| ArgReduce::build(
    n, false
));
crate::register!("ReduceL2", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::L2,
    18
));
crate::register!("ReduceMax", [1, LATEST], NUMERIC_BOOL, |n| Reduce::build(
    n,
    Kind::Max,
    18
));
crate::register!("ReduceMean", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::Mean,
    18
));
crate::register!("ReduceMin", [1, LATEST], NUMERIC_BOOL, |n| Reduce::build(
    n,
    Kind::Min,
    18
));
crate::register!("ReduceProd", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::Prod,
    18
));
crate::register!("ReduceSum", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::Sum,
    13
));
crate::register!("ReduceSumSquare", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::SumSquare,
    18
));

#[cfg(test)]
mod tests {
    use ort_core::abi::AttrValue;

    use crate::testing::{assert_close, attr, f32s, i64s, out_f32, run_node};

    fn x() -> Option<ort_core::Value> {
        f32s(&[2, 3, 4], &(0..24).map(|v| v as f32).collect::<Vec<_>>())
    }
    fn keep(k: i64) -> ort_core::abi::Attribute<'static> {
        attr("keepdims", AttrValue::Int(k))
    }

    #[test]
    fn reductions_match_numpy() {
        let o = run_node("ReduceSum", 13, &[x(), i64s(&[1], &[1])], vec![keep(0)], 1).unwrap();
        assert_eq!(
            out_f32(&o, 0),
            (vec![2, 4], vec![12., 15., 18., 21., 48., 51., 54., 57.])
        );
        let o = run_node(
            "ReduceMean",
            13,
            &[x()],
            vec![attr("axes", AttrValue::Ints(vec![0, 2].into())), keep(0)],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0), (vec![3], vec![7.5, 11.5, 15.5]));
        let o = run_node("ReduceMax", 18, &[x(), i64s(&[2], &[0, -1])], vec![], 1).unwrap();
        assert_eq!(out_f32(&o, 0), (vec![1, 3, 1], vec![15., 19., 23.]));
        let o = run_node("ReduceL2", 18, &[x(), i64s(&[1], &[2])], vec![keep(0)], 1).unwrap();
        let want = [
            3.741_657_5,
            11.224_972,
            19.131_126,
            27.092_434,
            35.071_358,
            43.058_1,
        ];
        assert_close(&out_f32(&o, 0).1, &want, 1e-6);
        let o = run_node("ReduceProd", 18, &[x(), i64s(&[1], &[0])], vec![keep(0)], 1).unwrap();
        assert_eq!(out_f32(&o, 0).1[..4], [0., 13., 28., 45.]);
        let o = run_node("ReduceSumSquare", 18, &[f32s(&[2], &[3., 4.])], vec![], 1).unwrap();
        assert_eq!(out_f32(&o, 0), (vec![1], vec![25.]));
        let o = run_node(
            "ReduceMin",
            18,
            &[x(), i64s(&[0], &[])],
            vec![attr("noop_with_empty_axes", AttrValue::Int(1))],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&o, 0).0, [2, 3, 4]);
    }

    #[test]
    fn large_reductions_agree_with_a_naive_loop() {
        let (a, b, c) = (7usize, 300, 40);
        let v: Vec<f32> = (0..a * b * c)
            .map(|i| ((i * 37) % 101) as f32 - 50.0)
            .collect();
        for axes in [vec![0i64], vec![1], vec![2], vec![0, 2], vec![1, 2]] {
            let o = run_node(
                "ReduceSum",
                13,
                &[
                    f32s(&[a as i64, b as i64, c as i64], &v),
                    i64s(&[axes.len() as i64], &axes),
                ],
                vec![],
                1,
            )
            .unwrap();
            let got = out_f32(&o, 0).1;
            let red = |d: usize| axes.contains(&(d as i64));
            let (oa, ob, oc) = (
                if red(0) { 1 } else { a },
                if red(1) { 1 } else { b },
                if red(2) { 1 } else { c },
            );
            let mut want = vec![0f32; oa * ob * oc];
            for i in 0..a {
                for j in 0..b {
                    for k in 0..c {
                        let o = ((i % oa) * ob + j % ob) * oc + k % oc;
                        want[o] += v[(i * b + j) * c + k];
                    }
                }
            }
            assert_eq!(got, want, "axes {axes:?}");
        }
    }

    #[test]
    fn arg_max_and_min() {
        let x = f32s(&[2, 3], &[1., 5., 5., 7., 0., 0.]);
        let o = run_node(
            "ArgMax",
            13,
            std::slice::from_ref(&x),
            vec![attr("axis", AttrValue::Int(1))],
            1,
        )
        .unwrap();
        let t = o[0].as_ref().unwrap().as_tensor().unwrap();
        assert_eq!(
            (t.shape(), t.to_vec::<i64>().unwrap()),
            (&[2i64, 1][..], vec![1, 0])
        );
        let a = vec![
            attr("axis", AttrValue::Int(1)),
            attr("keepdims", AttrValue::Int(0)),
            attr("select_last_index", AttrValue::Int(1)),
        ];
        let o = run_node("ArgMin", 13, &[x], a, 1).unwrap();
        assert_eq!(
            o[0].as_ref()
                .unwrap()
                .as_tensor()
                .unwrap()
                .to_vec::<i64>()
                .unwrap(),
            [0, 2]
        );
    }
}
