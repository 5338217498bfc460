//! Einsum. Each operand becomes a strided view over its distinct labels (a label
//! repeated within a term takes the diagonal by summing its strides; a broadcast
//! dimension of size 1 gets stride 0). Operands are then contracted left to
//! right, two at a time, keeping only the labels the output or a later operand
//! still needs. Floats compute in f64; integers in their own type, wrapping.

use ort_core::{Error, Tensor, Value};

use crate::kernel::{one, Ctx, Kernel, Outputs};
use crate::ops::{LATEST, NUMERIC};
use crate::util::{gemm_strided, MatRef, Num};

struct Einsum {
    inputs: Vec<Vec<Tok>>,
    output: Option<Vec<Tok>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A letter, numbered so that the order is ASCII's (upper case first).
    Letter(usize),
    Ellipsis,
}

/// Labels of ellipsis dimensions start here, after the 52 letters.
const ELL: usize = 52;

fn parse_term(t: &str) -> Result<Vec<Tok>, Error> {
    let mut out = Vec::new();
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c @ b'A'..=b'Z' => out.push(Tok::Letter((c - b'A') as usize)),
            c @ b'a'..=b'z' => out.push(Tok::Letter((c - b'a') as usize + 26)),
            b'.' if b[i..].starts_with(b"...") => {
                if out.contains(&Tok::Ellipsis) {
                    return Err(Error::invalid(format!(
                        "Einsum term {t:?} has more than one ellipsis"
                    )));
                }
                out.push(Tok::Ellipsis);
                i += 2;
            }
            c => {
                return Err(Error::invalid(format!(
                    "Einsum term {t:?} has an invalid character {:?}",
                    c as char
                )))
            }
        }
        i += 1;
    }
    Ok(out)
}

fn parse(eq: &str) -> Result<Einsum, Error> {
    let eq: String = eq.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (eq.as_str(), None),
    };
    Ok(Einsum {
        inputs: lhs.split(',').map(parse_term).collect::<Result<_, _>>()?,
        output: rhs.map(parse_term).transpose()?,
    })
}

/// An operand as a strided view over distinct labels.
struct Operand<N> {
    data: Vec<N>,
    labels: Vec<usize>,
    strides: Vec<usize>,
}

/// `out[kept] = sum over the other labels of the product of the operands`.
fn contract<N: Num>(ops: &[&Operand<N>], kept: &[usize], size: &[usize]) -> Operand<N> {
    let mut all = kept.to_vec();
    for op in ops {
        for &l in &op.labels {
            if !all.contains(&l) {
                all.push(l);
            }
        }
    }
    let dims: Vec<usize> = all.iter().map(|&l| size[l]).collect();
    let st: Vec<Vec<usize>> = ops
        .iter()
        .map(|op| {
            all.iter()
                .map(|l| {
                    op.labels
                        .iter()
                        .position(|x| x == l)
                        .map_or(0, |p| op.strides[p])
                })
                .collect()
        })
        .collect();
    let n_out: usize = dims[..kept.len()].iter().product();
    let n_sum: usize = dims[kept.len()..].iter().product();
    let mut data = vec![N::ZERO; n_out];
    if n_sum > 0 {
        let mut idx = vec![0usize; all.len()];
        let mut offs = vec![0usize; ops.len()];
        for o in data.iter_mut() {
            let mut acc = N::ZERO;
            for _ in 0..n_sum {
                let p = ops
                    .iter()
                    .zip(&offs)
                    .fold(N::ONE, |p, (op, &off)| p.wmul(op.data[off]));
                acc = acc.wadd(p);
                // Advance the odometer, innermost label last.
                for d in (0..all.len()).rev() {
                    idx[d] += 1;
                    if idx[d] < dims[d] {
                        offs.iter_mut().zip(&st).for_each(|(f, s)| *f += s[d]);
                        break;
                    }
                    offs.iter_mut()
                        .zip(&st)
                        .for_each(|(f, s)| *f -= s[d] * (dims[d] - 1));
                    idx[d] = 0;
                }
            }
            *o = acc;
        }
    }
    Operand {
        data,
        labels: kept.to_vec(),
        strides: dense(kept, size),
    }
}

impl Einsum {
    /// Each input's labels (ellipses expanded), the output's, and every label's size.
    #[allow(clippy::type_complexity)]
    fn labels(&self, xs: &[&Tensor]) -> Result<(Vec<Vec<usize>>, Vec<usize>, Vec<usize>), Error> {
        if xs.len() != self.inputs.len() {
            return Err(Error::invalid(format!(
                "Einsum equation has {} terms but the node has {} inputs",
                self.inputs.len(),
                xs.len()
            )));
        }
        let mut ell = Vec::with_capacity(xs.len());
        for (t, x) in self.inputs.iter().zip(xs) {
            let letters = t.iter().filter(|&&k| k != Tok::Ellipsis).count();
            let has = t.contains(&Tok::Ellipsis);
            if x.rank() < letters || (!has && x.rank() != letters) {
                return Err(Error::invalid(format!(
                    "Einsum term of {letters} labels does not fit an input of shape {:?}",
                    x.shape()
                )));
            }
            ell.push(x.rank() - letters);
        }
        let e = ell.iter().copied().max().unwrap_or(0);
        let expand = |t: &[Tok], n: usize| -> Vec<usize> {
            t.iter()
                .flat_map(|&k| match k {
                    Tok::Letter(l) => vec![l],
                    Tok::Ellipsis => (ELL + e - n..ELL + e).collect(),
                })
                .collect()
        };
        let ins: Vec<Vec<usize>> = self
            .inputs
            .iter()
            .zip(&ell)
            .map(|(t, &n)| expand(t, n))
            .collect();
        let mut size = vec![1usize; ELL + e];
        let mut seen = vec![false; ELL + e];
        for (ls, x) in ins.iter().zip(xs) {
            for (&l, &d) in ls.iter().zip(x.shape()) {
                let d = d as usize;
                if !seen[l] || size[l] == 1 {
                    size[l] = d;
                } else if d != size[l] && d != 1 {
                    return Err(Error::invalid(format!(
                        "Einsum label has sizes {} and {d}",
                        size[l]
                    )));
                }
                seen[l] = true;
            }
        }
        let out = match &self.output {
            Some(t) => {
                let o = expand(t, e);
                for (i, &l) in o.iter().enumerate() {
                    if !seen[l] || o[..i].contains(&l) {
                        return Err(Error::invalid(
                            "Einsum output labels must be distinct and appear in an input",
                        ));
                    }
                }
                o
            }
            None => {
                let count = |l: usize| ins.iter().flatten().filter(|&&x| x == l).count();
                (ELL..ELL + e)
                    .chain((0..ELL).filter(|&l| count(l) == 1))
                    .collect()
            }
        };
        Ok((ins, out, size))
    }
}

/// An operand over `x`'s distinct labels, `conv` converting its elements.
fn operand<T: Num, N>(
    x: &Tensor,
    ls: &[usize],
    size: &[usize],
    conv: impl Fn(T) -> N,
) -> Result<Operand<N>, Error> {
    let mut st = vec![1usize; ls.len()];
    for i in (0..ls.len().saturating_sub(1)).rev() {
        st[i] = st[i + 1] * x.shape()[i + 1] as usize;
    }
    let (mut labels, mut strides) = (Vec::new(), Vec::new());
    for (i, &l) in ls.iter().enumerate() {
        let d = x.shape()[i] as usize;
        let s = if d == 1 && size[l] != 1 { 0 } else { st[i] };
        match labels.iter().position(|&k| k == l) {
            Some(p) => {
                if d != size[l] {
                    return Err(Error::invalid(
                        "Einsum repeated label has differing dimension sizes",
                    ));
                }
                strides[p] += s;
            }
            None => {
                labels.push(l);
                strides.push(s);
            }
        }
    }
    Ok(Operand {
        data: x.as_slice::<T>()?.iter().map(|&v| conv(v)).collect(),
        labels,
        strides,
    })
}

/// Element types the contraction computes in; f64 may hand pairwise
/// contractions to a matrix product.
trait Elem: Num {
    const GEMM: bool = false;
    /// `c[m×n] = a[m×k] · b[k×n]`, all dense row-major.
    fn gemm(_a: &[Self], _b: &[Self], _c: &mut [Self], _mkn: [usize; 3], _threads: usize) -> bool {
        false
    }
}

impl Elem for f64 {
    const GEMM: bool = true;
    fn gemm(a: &[f64], b: &[f64], c: &mut [f64], [m, k, n]: [usize; 3], threads: usize) -> bool {
        let (a, b) = (MatRef::rows(a, m, k), MatRef::rows(b, k, n));
        gemm_strided(a, b, c, n, false, threads).is_ok()
    }
}

// The other types (floats only type-check here: they compute in f64).
macro_rules! plain_elem {
    ($($t:ty),*) => {$(impl Elem for $t {})*};
}
plain_elem!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f32,
    half::f16,
    half::bf16
);

/// Dense row-major strides for `labels`.
fn dense(labels: &[usize], size: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; labels.len()];
    for i in (0..labels.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * size[labels[i + 1]];
    }
    strides
}

/// Contracts two operands onto `kept`: as batched matrix products when that pays
/// (each operand first laid out densely as `[batch, rows, inner]` and
/// `[batch, inner, cols]`, its own summed labels folded away), else directly.
fn pair<N: Elem>(
    a: &Operand<N>,
    b: &Operand<N>,
    kept: &[usize],
    size: &[usize],
    threads: usize,
) -> Operand<N> {
    let (in_a, in_b) = (
        |l: &usize| a.labels.contains(l),
        |l: &usize| b.labels.contains(l),
    );
    let pick = |f: &dyn Fn(&usize) -> bool, from: &[usize]| -> Vec<usize> {
        from.iter().copied().filter(|l| f(l)).collect()
    };
    let batch = pick(&|l| in_a(l) && in_b(l), kept);
    let rows = pick(&|l| in_a(l) && !in_b(l), kept);
    let cols = pick(&|l| !in_a(l) && in_b(l), kept);
    let inner = pick(&|l| in_b(l) && !kept.contains(l), &a.labels);
    let prod = |ls: &[usize]| ls.iter().map(|&l| size[l]).product::<usize>();
    let (nb, m, n, k) = (prod(&batch), prod(&rows), prod(&cols), prod(&inner));
    if !N::GEMM || inner.is_empty() || m * n * k < 4096 {
        return contract(&[a, b], kept, size);
    }
    let a2 = contract(&[a], &[&batch[..], &rows, &inner].concat(), size);
    let b2 = contract(&[b], &[&batch[..], &inner, &cols].concat(), size);
    let mut c = vec![N::ZERO; nb * m * n];
    for i in 0..nb {
        let (x, y) = (
            &a2.data[i * m * k..][..m * k],
            &b2.data[i * k * n..][..k * n],
        );
        if !N::gemm(x, y, &mut c[i * m * n..][..m * n], [m, k, n], threads) {
            return contract(&[a, b], kept, size);
        }
    }
    let labels = [&batch[..], &rows, &cols].concat();
    let r = Operand {
        data: c,
        strides: dense(&labels, size),
        labels,
    };
    if r.labels == kept {
        r
    } else {
        contract(&[&r], kept, size)
    }
}

fn run<N: Elem>(mut ops: Vec<Operand<N>>, out: &[usize], size: &[usize], threads: usize) -> Vec<N> {
    if ops.len() == 1 {
        return contract(&[&ops[0]], out, size).data;
    }
    let rest: Vec<Operand<N>> = ops.split_off(1);
    let mut acc = ops.pop().expect("one operand is left");
    let n = rest.len();
    for (i, b) in rest.iter().enumerate() {
        let kept: Vec<usize> = if i + 1 == n {
            out.to_vec()
        } else {
            let mut k = Vec::new();
            for &l in acc.labels.iter().chain(&b.labels) {
                let later = out.contains(&l) || rest[i + 1..].iter().any(|o| o.labels.contains(&l));
                if later && !k.contains(&l) {
                    k.push(l);
                }
            }
            k
        };
        acc = pair(&acc, b, &kept, size, threads);
    }
    acc.data
}

impl Kernel for Einsum {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let xs = inputs
            .iter()
            .map(|v| {
                v.ok_or_else(|| Error::invalid("Einsum inputs must all be present"))?
                    .tensor()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let Some(first) = xs.first() else {
            return Err(Error::invalid("Einsum needs at least one input"));
        };
        let elem = first.elem();
        if xs.iter().any(|x| x.elem() != elem) {
            return Err(Error::invalid("Einsum inputs must share one element type"));
        }
        let (ins, out, size) = self.labels(&xs)?;
        let shape: Vec<i64> = out.iter().map(|&l| size[l] as i64).collect();
        one(crate::dispatch_numeric!(elem, T => {
            if elem.is_float() {
                let ops = xs.iter().zip(&ins).map(|(x, ls)| operand(x, ls, &size, |v: T| v.to_f64()))
                    .collect::<Result<Vec<_>, _>>()?;
                let r = run(ops, &out, &size, ctx.threads);
                ctx.tensor(&shape, |o: &mut [T]| o.iter_mut().zip(&r).for_each(|(o, &v)| *o = T::from_f64(v)))
            } else {
                let ops = xs.iter().zip(&ins).map(|(x, ls)| operand(x, ls, &size, |v: T| v))
                    .collect::<Result<Vec<_>, _>>()?;
                ctx.tensor_from(&shape, &run(ops, &out, &size, ctx.threads))
            }
        })?)
    }
}

crate::register!("Einsum", [12, LATEST], NUMERIC, |n| {
    let eq = n.string("equation", "")?;
    Ok(Box::new(parse(&eq)?))
});
