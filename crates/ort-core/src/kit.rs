//! Helpers for provider authors: reading a node's attributes ([`Attributes`],
//! also used by ort-graph's IR, so every reader treats a wrong type alike) and a
//! graph's constants in GetCapability and Compile, the shape arithmetic every
//! device kernel needs, and [`lower`], the lowering framework device providers
//! share. Nothing here crosses the boundary; it works on the borrowed
//! [`GraphView`] a provider is handed.

pub mod lower;

use crate::abi::{AttrValue, ElemType, Error, GraphView, NodeView, Tensor};

/// An attribute's value as the typed getters of [`Attributes`] see it, borrowed
/// from either graph form (the ABI's `NodeView`, or ort-graph's IR).
pub enum AttrRef<'a> {
    Int(i64),
    Float(f32),
    Ints(&'a [i64]),
    Floats(&'a [f32]),
    String(&'a [u8]),
    Strings(Vec<&'a [u8]>),
    Tensor(&'a Tensor),
    /// A graph, a type, or a list of them.
    Other,
}

/// The one way to read a node's attributes, for the graph, the optimizer and
/// every provider: absent gives the default (or None), and an attribute of
/// another type is an error naming it, never a silent default. An int is
/// accepted where a float or a list of ints is asked for, as onnxruntime does.
pub trait Attributes {
    /// The attribute `name`, if the node has it.
    fn attr_ref(&self, name: &str) -> Option<AttrRef<'_>>;

    fn attr_int(&self, name: &str, default: i64) -> Result<i64, Error> {
        Ok(self.attr_opt_int(name)?.unwrap_or(default))
    }
    /// An int attribute, None when absent.
    fn attr_opt_int(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.attr_ref(name) {
            None => Ok(None),
            Some(AttrRef::Int(v)) => Ok(Some(v)),
            Some(_) => Err(wrong_type(name, "an int")),
        }
    }
    fn attr_float(&self, name: &str, default: f32) -> Result<f32, Error> {
        match self.attr_ref(name) {
            None => Ok(default),
            Some(AttrRef::Float(v)) => Ok(v),
            Some(AttrRef::Int(v)) => Ok(v as f32),
            Some(_) => Err(wrong_type(name, "a float")),
        }
    }
    fn attr_ints(&self, name: &str) -> Result<Option<Vec<i64>>, Error> {
        match self.attr_ref(name) {
            None => Ok(None),
            Some(AttrRef::Ints(v)) => Ok(Some(v.to_vec())),
            Some(AttrRef::Int(v)) => Ok(Some(vec![v])),
            Some(_) => Err(wrong_type(name, "a list of ints")),
        }
    }
    fn attr_floats(&self, name: &str) -> Result<Option<Vec<f32>>, Error> {
        match self.attr_ref(name) {
            None => Ok(None),
            Some(AttrRef::Floats(v)) => Ok(Some(v.to_vec())),
            Some(_) => Err(wrong_type(name, "a list of floats")),
        }
    }
    /// A string attribute, lossily decoded (ONNX strings are bytes).
    fn attr_string(&self, name: &str) -> Result<Option<String>, Error> {
        match self.attr_ref(name) {
            None => Ok(None),
            Some(AttrRef::String(s)) => Ok(Some(String::from_utf8_lossy(s).into_owned())),
            Some(_) => Err(wrong_type(name, "a string")),
        }
    }
    fn attr_strings(&self, name: &str) -> Result<Option<Vec<String>>, Error> {
        match self.attr_ref(name) {
            None => Ok(None),
            Some(AttrRef::Strings(v)) => Ok(Some(
                v.iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            )),
            Some(_) => Err(wrong_type(name, "a list of strings")),
        }
    }
    fn attr_tensor(&self, name: &str) -> Result<Option<&Tensor>, Error> {
        match self.attr_ref(name) {
            None => Ok(None),
            Some(AttrRef::Tensor(t)) => Ok(Some(t)),
            Some(_) => Err(wrong_type(name, "a tensor")),
        }
    }
}

impl Attributes for NodeView<'_> {
    fn attr_ref(&self, name: &str) -> Option<AttrRef<'_>> {
        Some(match self.attr(name)? {
            AttrValue::Int(v) => AttrRef::Int(*v),
            AttrValue::Float(v) => AttrRef::Float(*v),
            AttrValue::Ints(v) => AttrRef::Ints(v),
            AttrValue::Floats(v) => AttrRef::Floats(v),
            AttrValue::String(v) => AttrRef::String(v),
            AttrValue::Strings(v) => AttrRef::Strings(v.iter().map(|s| s.as_slice()).collect()),
            AttrValue::Tensor(t) => AttrRef::Tensor(t),
            _ => AttrRef::Other,
        })
    }
}

impl NodeView<'_> {
    /// The element type of input `k` when it is one of `allowed`, else why not
    /// (`refuse(v, e, allowed)` words a known type outside `allowed`).
    pub fn input_elem_among(
        &self,
        graph: &GraphView<'_>,
        k: usize,
        allowed: &[ElemType],
        refuse: impl FnOnce(&str, ElemType, &[ElemType]) -> String,
    ) -> Result<ElemType, String> {
        match self.inputs.get(k) {
            Some(v) if !v.is_empty() => graph.elem_among(v, allowed, refuse),
            _ => Err(format!("input {k} is missing")),
        }
    }
    /// Whether optional input `k` is given.
    pub fn has_input(&self, k: usize) -> bool {
        self.inputs.get(k).is_some_and(|v| !v.is_empty())
    }
    /// Whether this node is `op` in the default ONNX domain.
    pub fn is_onnx(&self, op: &str) -> bool {
        self.op_type.as_str() == op && matches!(self.domain.as_str(), "" | "ai.onnx")
    }
}

impl<'a> GraphView<'a> {
    /// The element type of a value, when known.
    pub fn elem_of(&self, v: &str) -> Option<ElemType> {
        match self.initializer(v) {
            Some(t) => Some(t.elem()),
            None => self.value_type(v).and_then(|t| t.elem()),
        }
    }
    /// The element type of `v` when it is one of `allowed`, else why not (`refuse`
    /// words a known type outside `allowed`: `refuse(v, e, allowed)`).
    pub fn elem_among(
        &self,
        v: &str,
        allowed: &[ElemType],
        refuse: impl FnOnce(&str, ElemType, &[ElemType]) -> String,
    ) -> Result<ElemType, String> {
        match self.elem_of(v) {
            Some(e) if allowed.contains(&e) => Ok(e),
            Some(e) => Err(refuse(v, e, allowed)),
            None => Err(format!("the element type of {v} is not known")),
        }
    }
    /// The rank of a value, when known.
    pub fn rank_of(&self, v: &str) -> Option<usize> {
        if let Some(t) = self.initializer(v) {
            return Some(t.rank());
        }
        self.value_type(v)?.shape().map(|s| s.len())
    }
    /// The shape of a value when every dimension is known.
    pub fn shape_of(&self, v: &str) -> Option<Vec<i64>> {
        if let Some(t) = self.initializer(v) {
            return Some(t.shape().to_vec());
        }
        self.value_type(v)?
            .shape()?
            .iter()
            .map(|d| d.known())
            .collect()
    }
    /// The initializer named `v`, unless a graph input of that name may
    /// override it (then it is not a constant).
    pub fn constant(&self, v: &str) -> Option<&'a Tensor> {
        if self.inputs.iter().any(|i| i == v) {
            return None;
        }
        self.initializer(v)
    }
}

fn wrong_type(name: &str, what: &str) -> Error {
    Error::invalid(format!("attribute {name} must be {what}"))
}

/// A device partition's inputs: None for those it reads on the host
/// (`on_device[i]` false), else `resolve(i, tensor)`; a missing one is an error
/// naming the provider.
pub fn device_inputs<O>(
    inputs: &[Option<&crate::Value>],
    on_device: &[bool],
    provider: &str,
    mut resolve: impl FnMut(usize, &Tensor) -> Result<O, Error>,
) -> Result<Vec<Option<O>>, Error> {
    let mut out = Vec::with_capacity(inputs.len());
    for (i, v) in inputs.iter().enumerate() {
        if !on_device.get(i).copied().unwrap_or(false) {
            out.push(None);
            continue;
        }
        let t = v
            .ok_or_else(|| Error::invalid(format!("{provider} partition input {i} is missing")))?
            .tensor()?;
        out.push(Some(resolve(i, t)?));
    }
    Ok(out)
}

/// Element count of a shape (negative dims count as empty).
pub fn numel(shape: &[i64]) -> usize {
    shape.iter().product::<i64>().max(0) as usize
}

/// Row-major strides of a shape, in elements.
pub fn strides(shape: &[i64]) -> Vec<i64> {
    let mut st = vec![1i64; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        st[k] = st[k + 1] * shape[k + 1].max(1);
    }
    st
}

/// An axis in `0..rank`, from ONNX's `-rank..rank`.
pub fn axis(a: i64, rank: usize) -> Result<usize, Error> {
    let r = rank as i64;
    let k = if a < 0 { a + r } else { a };
    if (0..r).contains(&k) {
        Ok(k as usize)
    } else {
        Err(Error::invalid(format!(
            "axis {a} is out of range for rank {r}"
        )))
    }
}

/// The numpy broadcast of two shapes.
pub fn broadcast(a: &[i64], b: &[i64]) -> Result<Vec<i64>, Error> {
    let r = a.len().max(b.len());
    let dim = |s: &[i64], k: usize| {
        if k + s.len() >= r {
            s[k + s.len() - r]
        } else {
            1
        }
    };
    (0..r)
        .map(|k| match (dim(a, k), dim(b, k)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            (x, y) => Err(Error::invalid(format!(
                "shapes {a:?} and {b:?} do not broadcast (axis {k}: {x} vs {y})"
            ))),
        })
        .collect()
}

/// The numpy broadcast of any number of shapes (a scalar for none).
pub fn broadcast_all(shapes: &[&[i64]]) -> Result<Vec<i64>, Error> {
    shapes
        .iter()
        .try_fold(Vec::new(), |acc, s| broadcast(&acc, s))
}

/// The strides that read a tensor of `shape` as if broadcast to `to` (0 along
/// broadcast axes); `to` has at least `shape`'s rank.
pub fn broadcast_strides(shape: &[i64], to: &[i64]) -> Vec<i64> {
    let off = to.len() - shape.len();
    let st = strides(shape);
    (0..to.len())
        .map(|k| {
            if k < off || shape[k - off] == 1 {
                0
            } else {
                st[k - off]
            }
        })
        .collect()
}

/// What one step of a device provider reads and writes: its device operands, the
/// host integers it was given, and its output, of the provider's operand type.
#[derive(Debug)]
pub struct Io<'a, O> {
    pub inputs: &'a [O],
    pub ints: &'a [Ints],
    pub out: &'a O,
}

// Not derived: a derive would require `O: Copy`, and the fields are references.
impl<O> Clone for Io<'_, O> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<O> Copy for Io<'_, O> {}

/// A host integer tensor (int64, int32 or bool) as int64: the shapes, axes,
/// indices and conditions a device kernel reads on the host at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ints {
    pub shape: Vec<i64>,
    pub data: Vec<i64>,
}

impl Ints {
    pub fn from_tensor(t: &Tensor) -> Result<Ints, Error> {
        let data = match t.elem() {
            ElemType::I64 => t.as_slice::<i64>()?.to_vec(),
            ElemType::I32 => t.as_slice::<i32>()?.iter().map(|&v| v as i64).collect(),
            ElemType::Bool => t.as_slice::<bool>()?.iter().map(|&v| v as i64).collect(),
            e => {
                return Err(Error::invalid(format!(
                    "expected an integer tensor, got {e}"
                )))
            }
        };
        Ok(Ints {
            shape: t.shape().to_vec(),
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast(&[2, 1, 4], &[3, 1]).unwrap(), vec![2, 3, 4]);
        assert_eq!(broadcast(&[], &[5]).unwrap(), vec![5]);
        assert!(broadcast(&[2, 3], &[4, 3]).is_err());
        assert_eq!(broadcast_strides(&[3, 1], &[2, 3, 4]), vec![0, 1, 0]);
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(axis(-1, 3).unwrap(), 2);
        assert!(axis(3, 3).is_err());
    }
}
