//! Load-time values of small integer tensors: constants and the shape arithmetic
//! (Shape → Gather → Concat → Reshape ...) that exporters emit, so that shapes
//! computed at run time from static dims are known statically too.

use ort_core::{ElemType, Tensor};

use super::{concrete, norm_axis, Cx};
use crate::ir::AttrValue;

/// Tensors above this many elements are not tracked (shape vectors are tiny).
const MAX_LEN: usize = 1024;

/// An integer tensor: data and shape.
struct Ints {
    elem: ElemType,
    shape: Vec<i64>,
    data: Vec<i64>,
}

impl Ints {
    fn vector(elem: ElemType, data: Vec<i64>) -> Ints {
        Ints {
            elem,
            shape: vec![data.len() as i64],
            data,
        }
    }
    fn build(self) -> Option<Tensor> {
        if self.data.len() > MAX_LEN {
            return None;
        }
        match self.elem {
            ElemType::I64 => Tensor::from_vec(&self.shape, self.data).ok(),
            ElemType::I32 => {
                Tensor::from_vec(&self.shape, self.data.iter().map(|&v| v as i32).collect()).ok()
            }
            _ => None,
        }
    }
}

fn ints(cx: &Cx<'_>, i: usize) -> Option<Ints> {
    let t = cx.value(i)?;
    if !matches!(t.elem(), ElemType::I64 | ElemType::I32) || t.len() > MAX_LEN {
        return None;
    }
    Some(Ints {
        elem: t.elem(),
        shape: t.shape().to_vec(),
        data: t.to_i64_vec().ok()?,
    })
}

/// The value of the node's first output, when it can be computed at load time.
pub(super) fn compute(cx: &Cx<'_>) -> Option<Tensor> {
    if !cx.n.domain.is_empty() || cx.n.outputs.is_empty() {
        return None;
    }
    let out = match cx.op() {
        "Constant" => {
            let a = cx.n.attrs.first()?;
            return match (a.name.as_str(), &a.value) {
                ("value", AttrValue::Tensor(t)) => Some(t.clone()),
                ("value_int", AttrValue::Int(v)) => Tensor::from_vec(&[], vec![*v]).ok(),
                ("value_ints", AttrValue::Ints(v)) => {
                    Tensor::from_vec(&[v.len() as i64], v.clone()).ok()
                }
                ("value_float", AttrValue::Float(v)) => Tensor::from_vec(&[], vec![*v]).ok(),
                ("value_floats", AttrValue::Floats(v)) => {
                    Tensor::from_vec(&[v.len() as i64], v.clone()).ok()
                }
                _ => None,
            };
        }
        "Identity" => return cx.value(0).cloned(),
        "Shape" => {
            let dims = concrete(&cx.s(0)?)?;
            let r = dims.len() as i64;
            let clamp = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) } as usize;
            let (start, end) = (clamp(cx.int("start", 0)), clamp(cx.int("end", r)));
            Ints::vector(ElemType::I64, dims[start..end.max(start)].to_vec())
        }
        "Size" => Ints {
            elem: ElemType::I64,
            shape: vec![],
            data: vec![concrete(&cx.s(0)?)?.iter().product()],
        },
        "Cast" => {
            let x = ints(cx, 0)?;
            let to = cx.dtype("to")?;
            if !matches!(to, ElemType::I64 | ElemType::I32) {
                return None;
            }
            Ints { elem: to, ..x }
        }
        "Gather" => {
            let (x, idx) = (ints(cx, 0)?, ints(cx, 1)?);
            if x.shape.len() != 1 || cx.int("axis", 0) != 0 {
                return None;
            }
            let n = x.data.len() as i64;
            let data = idx
                .data
                .iter()
                .map(|&i| {
                    let j = if i < 0 { i + n } else { i };
                    x.data.get(usize::try_from(j).ok()?).copied()
                })
                .collect::<Option<Vec<_>>>()?;
            Ints {
                elem: x.elem,
                shape: idx.shape,
                data,
            }
        }
        "Concat" => {
            let parts = (0..cx.num_in())
                .map(|i| ints(cx, i))
                .collect::<Option<Vec<_>>>()?;
            if parts.is_empty() || parts.iter().any(|p| p.shape.len() != 1) {
                return None;
            }
            Ints::vector(
                parts[0].elem,
                parts.into_iter().flat_map(|p| p.data).collect(),
            )
        }
        "Unsqueeze" | "Squeeze" | "Reshape" | "Flatten" => {
            let x = ints(cx, 0)?;
            let s = concrete(&cx_out_shape(cx)?)?;
            if s.iter().product::<i64>() != x.data.len() as i64 {
                return None;
            }
            Ints { shape: s, ..x }
        }
        "Slice" => {
            let x = ints(cx, 0)?;
            if x.shape.len() != 1 || cx.opset < 10 {
                return None;
            }
            let (st, en) = (ints(cx, 1)?.data, ints(cx, 2)?.data);
            if cx.has(3)
                && ints(cx, 3)?
                    .data
                    .iter()
                    .any(|&a| norm_axis(a, 1) != Some(0))
            {
                return None;
            }
            let step = if cx.has(4) {
                ints(cx, 4)?.data
            } else {
                vec![1]
            };
            let (&s, &e, &k) = (st.first()?, en.first()?, step.first()?);
            let n = x.data.len() as i64;
            let norm = |v: i64| if v < 0 { v.saturating_add(n) } else { v };
            let mut data = Vec::new();
            if k > 0 {
                let (mut i, e) = (norm(s).clamp(0, n), norm(e).clamp(0, n));
                while i < e {
                    data.push(x.data[i as usize]);
                    i += k;
                }
            } else if k < 0 {
                let (mut i, e) = (norm(s).clamp(-1, n - 1), norm(e).clamp(-1, n - 1));
                while i > e {
                    data.push(x.data[i as usize]);
                    i += k;
                }
            } else {
                return None;
            }
            Ints::vector(x.elem, data)
        }
        "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" => {
            let (a, b) = (ints(cx, 0)?, ints(cx, 1)?);
            if a.elem != b.elem || cx.num_in() != 2 {
                return None;
            }
            let (long, shape) = if a.data.len() >= b.data.len() {
                (a.data.len(), a.shape.clone())
            } else {
                (b.data.len(), b.shape.clone())
            };
            let pick = |v: &Vec<i64>, i: usize| {
                if v.len() == 1 {
                    Some(v[0])
                } else {
                    v.get(i).copied()
                }
            };
            if !(a.data.len() == long || a.data.len() == 1)
                || !(b.data.len() == long || b.data.len() == 1)
            {
                return None;
            }
            let data = (0..long)
                .map(|i| {
                    let (x, y) = (pick(&a.data, i)?, pick(&b.data, i)?);
                    match cx.op() {
                        "Add" => x.checked_add(y),
                        "Sub" => x.checked_sub(y),
                        "Mul" => x.checked_mul(y),
                        "Div" => (y != 0).then(|| x / y),
                        "Max" => Some(x.max(y)),
                        _ => Some(x.min(y)),
                    }
                })
                .collect::<Option<Vec<_>>>()?;
            // Rank-0 with rank-1 broadcasting keeps the larger rank.
            let shape = if a.shape.len() > shape.len() {
                a.shape
            } else if b.shape.len() > shape.len() {
                b.shape
            } else {
                shape
            };
            Ints {
                elem: a.elem,
                shape,
                data,
            }
        }
        "ConstantOfShape" => {
            let shape = ints(cx, 0)?.data;
            let v = match cx.n.attr("value") {
                Some(AttrValue::Tensor(t)) if matches!(t.elem(), ElemType::I64 | ElemType::I32) => {
                    (t.elem(), *t.to_i64_vec().ok()?.first()?)
                }
                _ => return None,
            };
            let n: i64 = shape.iter().product();
            if !(0..=MAX_LEN as i64).contains(&n) {
                return None;
            }
            Ints {
                elem: v.0,
                shape,
                data: vec![v.1; n as usize],
            }
        }
        "Range" => {
            let (s, l, d) = (ints(cx, 0)?, ints(cx, 1)?, ints(cx, 2)?);
            let (s, l, d) = (*s.data.first()?, *l.data.first()?, *d.data.first()?);
            if d == 0 {
                return None;
            }
            let n = ((l - s) as f64 / d as f64).ceil().max(0.0) as usize;
            if n > MAX_LEN {
                return None;
            }
            Ints::vector(cx.e(0)?, (0..n as i64).map(|i| s + i * d).collect())
        }
        _ => return None,
    };
    out.build()
}

/// The output shape inference gives a reshaping node (computed the same way).
fn cx_out_shape(cx: &Cx<'_>) -> super::Shape {
    let t = super::tensor::infer(cx)?.ok()?;
    t.first()?.shape().map(|s| s.to_vec())
}
