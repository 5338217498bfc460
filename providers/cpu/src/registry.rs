//! The kernel registry: every op file submits a [`KernelDef`] with `inventory`.

use ort_core::{ElemType, Error, NodeView, Value};

use crate::kernel::{Kernel, NodeInfo};

/// A kernel registration.
pub struct KernelDef {
    pub op: &'static str,
    /// `""` for the default ONNX domain.
    pub domain: &'static str,
    /// Opset range this kernel implements, inclusive.
    pub since: i64,
    pub until: i64,
    /// Element types accepted for the type-deciding input (`type_input`); empty = any.
    pub types: &'static [ElemType],
    /// Which input decides the type constraint (usually 0).
    pub type_input: usize,
    /// Inputs bound to one type variable, checked before every call.
    pub same_type: SameType,
    pub build: fn(&NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error>,
}

inventory::collect!(KernelDef);

/// Inputs that must share one element type: onnxruntime's type constraint `T`
/// bound to several inputs. The host checks it before calling the kernel, so a
/// kernel body may assume it.
#[derive(Clone, Copy, Debug)]
pub enum SameType {
    /// No constraint across inputs.
    Free,
    /// These input slots (those present) share a type.
    Inputs(&'static [usize]),
    /// Every input shares a type (variadic ops).
    All,
}

impl SameType {
    fn binds(self, k: usize) -> bool {
        match self {
            SameType::Free => false,
            SameType::Inputs(ks) => ks.contains(&k),
            SameType::All => true,
        }
    }
    /// An error naming the first two bound inputs whose element types differ.
    pub fn check(self, inputs: &[Option<&Value>]) -> Result<(), Error> {
        // Most kernels declare nothing: no walk over their inputs per call.
        if let SameType::Free = self {
            return Ok(());
        }
        let mut first: Option<(usize, ElemType)> = None;
        for (k, v) in inputs.iter().enumerate() {
            let Some(t) = v.and_then(|v| v.as_tensor()) else {
                continue;
            };
            if !self.binds(k) {
                continue;
            }
            match first {
                None => first = Some((k, t.elem())),
                Some((j, e)) if e != t.elem() => {
                    return Err(Error::invalid(format!(
                        "input types differ: input {j} is {e} and input {k} is {}",
                        t.elem()
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// Why no kernel takes a node, or the kernel that does.
pub fn lookup(
    node: &NodeView<'_>,
    input_type: Option<ElemType>,
) -> Result<&'static KernelDef, String> {
    let mut op_known = false;
    let mut opset_ok = false;
    for def in inventory::iter::<KernelDef> {
        if def.op != node.op_type.as_str() || def.domain != node.domain.as_str() {
            continue;
        }
        op_known = true;
        if node.opset < def.since || node.opset > def.until {
            continue;
        }
        opset_ok = true;
        match input_type {
            Some(t) if !def.types.is_empty() && !def.types.contains(&t) => continue,
            _ => return Ok(def),
        }
    }
    let domain = if node.domain.is_empty() {
        "ai.onnx"
    } else {
        node.domain.as_str()
    };
    Err(if !op_known {
        format!("no CPU kernel for op {} in domain {domain}", node.op_type)
    } else if !opset_ok {
        format!(
            "no CPU kernel for {} at {domain} opset {}",
            node.op_type, node.opset
        )
    } else {
        format!(
            "no CPU kernel for {} (opset {}) with element type {}",
            node.op_type,
            node.opset,
            input_type.map(|t| t.onnx_name()).unwrap_or("?")
        )
    })
}

/// Registers a kernel: `register!("Relu", [6, LATEST], &[F32, F64], build_fn)`;
/// `same: [0, 1]` (or `same: all`) after the types binds inputs to one type; the
/// long form also names the domain and the type-deciding input.
#[macro_export]
macro_rules! register {
    ($op:literal, [$since:expr, $until:expr], $types:expr, $build:expr) => {
        $crate::register!($op, "", [$since, $until], $types, 0, $build);
    };
    ($op:literal, [$since:expr, $until:expr], $types:expr, same: all, $build:expr) => {
        $crate::register!(@def $op, "", [$since, $until], $types, 0, $crate::registry::SameType::All, $build);
    };
    ($op:literal, [$since:expr, $until:expr], $types:expr, same: [$($k:literal),+], $build:expr) => {
        $crate::register!(@def $op, "", [$since, $until], $types, 0, $crate::registry::SameType::Inputs(&[$($k),+]), $build);
    };
    ($op:literal, $domain:literal, [$since:expr, $until:expr], $types:expr, $type_input:literal, $build:expr) => {
        $crate::register!(@def $op, $domain, [$since, $until], $types, $type_input, $crate::registry::SameType::Free, $build);
    };
    ($op:literal, $domain:literal, [$since:expr, $until:expr], $types:expr, $type_input:literal, same: all, $build:expr) => {
        $crate::register!(@def $op, $domain, [$since, $until], $types, $type_input, $crate::registry::SameType::All, $build);
    };
    (@def $op:literal, $domain:literal, [$since:expr, $until:expr], $types:expr, $type_input:literal, $same:expr, $build:expr) => {
        inventory::submit! {
            $crate::registry::KernelDef {
                op: $op,
                domain: $domain,
                since: $since,
                until: $until,
                types: $types,
                type_input: $type_input,
                same_type: $same,
                build: $build,
            }
        }
    };
}
