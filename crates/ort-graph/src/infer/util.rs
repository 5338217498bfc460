//! Small shape helpers shared by the rule families.

use ort_core::{Dim, ElemType, TypeInfo};

pub(crate) type Shape = Option<Vec<Dim>>;
pub(crate) type Rule = Option<Result<Vec<TypeInfo>, String>>;

pub(crate) fn elem(t: &TypeInfo) -> Option<ElemType> {
    t.elem().filter(|e| *e != ElemType::Undefined)
}

pub(crate) fn shape(t: &TypeInfo) -> Shape {
    t.shape().map(|s| s.to_vec())
}

/// A tensor type, or Unknown when the element type is not known.
pub(crate) fn tensor(e: Option<ElemType>, s: Shape) -> TypeInfo {
    match e {
        Some(e) => TypeInfo::tensor(e, s),
        None => TypeInfo::Unknown,
    }
}

/// One output.
pub(crate) fn one(e: Option<ElemType>, s: Shape) -> Rule {
    Some(Ok(vec![tensor(e, s)]))
}

pub(crate) fn known(dims: &[i64]) -> Vec<Dim> {
    dims.iter().map(|&d| Dim::Known(d)).collect()
}

pub(crate) fn dim(v: Option<i64>) -> Dim {
    v.map_or(Dim::Unknown, Dim::Known)
}

/// `rank` unknown dims.
pub(crate) fn unknown_dims(rank: Option<usize>) -> Shape {
    rank.map(|r| vec![Dim::Unknown; r])
}

/// The product of dims, when all are known.
pub(crate) fn prod(dims: &[Dim]) -> Option<i64> {
    dims.iter().try_fold(1i64, |a, d| d.known().map(|v| a * v))
}

/// All dims as numbers, when all are known.
pub(crate) fn concrete(dims: &[Dim]) -> Option<Vec<i64>> {
    dims.iter().map(|d| d.known()).collect()
}

fn bcast_dim(a: &Dim, b: &Dim) -> Result<Dim, String> {
    Ok(match (a, b) {
        (Dim::Known(1), x) | (x, Dim::Known(1)) => x.clone(),
        (Dim::Known(x), Dim::Known(y)) if x != y => {
            return Err(format!("dimensions {x} and {y} cannot be broadcast"))
        }
        (x, y) if x == y => x.clone(),
        (Dim::Known(x), _) | (_, Dim::Known(x)) => Dim::Known(*x),
        _ => Dim::Unknown,
    })
}

/// Numpy broadcasting; an unknown rank anywhere gives an unknown shape.
pub(crate) fn broadcast(shapes: &[Shape]) -> Result<Shape, String> {
    let mut out: Vec<Dim> = Vec::new();
    for s in shapes {
        let Some(s) = s else { return Ok(None) };
        if s.len() > out.len() {
            let mut pad = vec![Dim::Known(1); s.len() - out.len()];
            pad.extend(out);
            out = pad;
        }
        let off = out.len() - s.len();
        for (i, d) in s.iter().enumerate() {
            out[off + i] = bcast_dim(&out[off + i], d)?;
        }
    }
    Ok(Some(out))
}

/// All known element types among `ts` must agree.
pub(crate) fn same_type(ts: &[&TypeInfo]) -> Result<Option<ElemType>, String> {
    let mut found: Option<ElemType> = None;
    for t in ts {
        if let Some(e) = elem(t) {
            match found {
                Some(f) if f != e => return Err(format!("input types differ: {f} and {e}")),
                _ => found = Some(e),
            }
        }
    }
    Ok(found)
}

pub(crate) fn norm_axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    (0..r.max(1)).contains(&v).then_some(v as usize)
}

/// The output spatial size of a convolution or pooling window.
pub(crate) struct Window {
    pub kernel: Vec<i64>,
    pub strides: Vec<i64>,
    pub dilations: Vec<i64>,
    pub pads: Vec<i64>,
    pub auto_pad: String,
    pub ceil: bool,
}

impl Window {
    pub fn out(&self, i: usize, d: i64) -> i64 {
        let sp = self.kernel.len();
        let (k, s, dl) = (self.kernel[i], self.strides[i], self.dilations[i]);
        let ek = (k - 1) * dl + 1;
        match self.auto_pad.as_str() {
            "SAME_UPPER" | "SAME_LOWER" => (d + s - 1) / s,
            "VALID" => (d - ek) / s + 1,
            _ => {
                let span = d + self.pads[i] + self.pads[i + sp] - ek;
                if self.ceil {
                    let mut o = (span + s - 1) / s + 1;
                    // The last window must start inside the input or its left padding.
                    if (o - 1) * s >= d + self.pads[i] {
                        o -= 1;
                    }
                    o
                } else {
                    span / s + 1
                }
            }
        }
    }
}
