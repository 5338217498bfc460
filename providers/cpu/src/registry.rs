//! The kernel registry: every op file submits a [`KernelDef`] with `inventory`.

use ort_core::{ElemType, Error, NodeView};

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
    pub build: fn(&NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error>,
}

inventory::collect!(KernelDef);

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
/// the long form also names the domain and the type-deciding input.
#[macro_export]
macro_rules! register {
    ($op:literal, [$since:expr, $until:expr], $types:expr, $build:expr) => {
        $crate::register!($op, "", [$since, $until], $types, 0, $build);
    };
    ($op:literal, $domain:literal, [$since:expr, $until:expr], $types:expr, $type_input:literal, $build:expr) => {
        inventory::submit! {
            $crate::registry::KernelDef {
                op: $op,
                domain: $domain,
                since: $since,
                until: $until,
                types: $types,
                type_input: $type_input,
                build: $build,
            }
        }
    };
}
