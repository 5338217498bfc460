//! Constant folding: a node whose inputs are all constants is run once, through
//! the session's evaluator (the CPU provider's own kernels), and replaced by
//! initializers holding its outputs. `Constant` nodes become initializers this way
//! too, and `Shape`/`Size` of a value whose shape is static fold without running.

use ort_core::kit::Attributes;
use std::collections::HashSet;

use ort_core::{Tensor, TypeInfo};
use ort_graph::{Graph, Node};

use crate::edit::{self, constant, is};
use crate::{Level, Pass, PassContext};

pub struct ConstantFolding;

/// Ops never folded: their result differs per run, or folding would undo what a
/// later consumer relies on (QDQ pairs mark quantized regions for providers).
const KEEP: &[&str] = &[
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
    "QuantizeLinear",
    "DequantizeLinear",
];

/// Folded outputs larger than this (elements, all outputs together) are left to
/// run: they would bloat the model for little gain.
const MAX_ELEMENTS: usize = 1 << 22;

impl Pass for ConstantFolding {
    fn name(&self) -> &str {
        "constant-folding"
    }
    fn level(&self) -> Level {
        Level::Basic
    }
    fn run(&self, g: &mut Graph, ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(fold(g, ctx, is_candidate))
    }
}

/// Extended level: DequantizeLinear of a constant (a quantized weight or bias)
/// folds into float initializers. The basic level keeps these nodes, which
/// mark a quantized region's weights for a provider that runs the region in
/// integers; the CPU provider computes such regions in float, and with the
/// weights constant it packs them once at session creation instead of
/// dequantizing them on every run (as onnxruntime's QDQ fusions also drop them).
pub struct DequantizeConstants;

impl Pass for DequantizeConstants {
    fn name(&self) -> &str {
        "dequantize-constants"
    }
    fn level(&self) -> Level {
        Level::Extended
    }
    fn run(&self, g: &mut Graph, ctx: &PassContext<'_>) -> Result<usize, String> {
        Ok(fold(g, ctx, |n| {
            (n.domain.is_empty() || n.domain == "ai.onnx") && is(n, "DequantizeLinear")
        }))
    }
}

/// Folds every node that `candidate` accepts and whose inputs are constants;
/// returns how many.
fn fold(g: &mut Graph, ctx: &PassContext<'_>, candidate: impl Fn(&Node) -> bool) -> usize {
    let mut folded: HashSet<usize> = HashSet::new();
    let mut new_inits: Vec<(String, Tensor)> = Vec::new();
    for i in 0..g.nodes.len() {
        let n = &g.nodes[i];
        if !candidate(n) {
            continue;
        }
        let outs = if let Some(t) = static_shape_of(g, n) {
            vec![t]
        } else {
            let Some(eval) = ctx.eval else { continue };
            let ins: Option<Vec<Option<&Tensor>>> = n
                .inputs
                .iter()
                .map(|v| {
                    if v.is_empty() {
                        Some(None)
                    } else {
                        constant(g, v).map(Some)
                    }
                })
                .collect();
            let Some(ins) = ins else { continue };
            match eval.eval(n, &ins, ctx.opsets) {
                Ok(outs) => outs,
                Err(e) => {
                    tracing::debug!("not folding {}: {e}", n.describe());
                    continue;
                }
            }
        };
        let names: Vec<&String> = n.outputs.iter().filter(|o| !o.is_empty()).collect();
        if outs.len() != names.len() || outs.iter().map(|t| t.len()).sum::<usize>() > MAX_ELEMENTS {
            continue;
        }
        for (name, t) in names.into_iter().zip(outs) {
            new_inits.push((name.clone(), t));
        }
        folded.insert(i);
        // Later nodes see this node's outputs as constants.
        g.initializers.append(&mut new_inits);
    }
    if folded.is_empty() {
        return 0;
    }
    let mut i = 0;
    g.nodes.retain(|_| {
        let keep = !folded.contains(&i);
        i += 1;
        keep
    });
    let fresh: Vec<(String, TypeInfo)> = g
        .initializers
        .iter()
        .filter(|(n, _)| !g.types.contains_key(n) || is_loose(&g.types[n]))
        .map(|(n, t)| (n.clone(), edit::known_type(t)))
        .collect();
    g.types.extend(fresh);
    folded.len()
}

fn is_candidate(n: &Node) -> bool {
    (n.domain.is_empty() || n.domain == "ai.onnx")
        && !KEEP.contains(&n.op_type.as_str())
        && n.subgraphs().next().is_none()
        && n.outputs.iter().any(|o| !o.is_empty())
}

/// `Shape` or `Size` of a value whose shape is known, without running anything.
fn static_shape_of(g: &Graph, n: &Node) -> Option<Tensor> {
    if !(is(n, "Shape") || is(n, "Size")) || n.inputs.first().is_none_or(|v| v.is_empty()) {
        return None;
    }
    let shape = edit::static_shape(g, &n.inputs[0])?;
    if is(n, "Size") {
        return Some(Tensor::scalar(shape.iter().product::<i64>()));
    }
    let r = shape.len() as i64;
    let clamp = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) };
    let start = clamp(n.attr_opt_int("start").ok().flatten().unwrap_or(0)) as usize;
    let end = clamp(n.attr_opt_int("end").ok().flatten().unwrap_or(r)) as usize;
    let dims: Vec<i64> = shape[start..end.max(start)].to_vec();
    Tensor::from_vec(&[dims.len() as i64], dims).ok()
}

fn is_loose(t: &TypeInfo) -> bool {
    !matches!(t, TypeInfo::Tensor { shape, .. } if shape.is_some())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::Evaluator;
    use ort_core::Dim;
    use ort_graph::ValueDecl;

    /// Add of f32 tensors of one shape, and DequantizeLinear of int8 with one
    /// scale and zero point: enough to test the passes' bookkeeping.
    struct Arith;
    impl Evaluator for Arith {
        fn eval(
            &self,
            node: &Node,
            inputs: &[Option<&Tensor>],
            _: &BTreeMap<String, i64>,
        ) -> Result<Vec<Tensor>, String> {
            let x = inputs[0].unwrap();
            let v: Vec<f32> = match node.op_type.as_str() {
                "Add" => {
                    let b = inputs[1].unwrap().to_vec::<f32>().unwrap();
                    let a = x.to_vec::<f32>().unwrap();
                    a.iter().zip(&b).map(|(x, y)| x + y).collect()
                }
                "DequantizeLinear" => {
                    let scale = inputs[1].unwrap().to_vec::<f32>().unwrap()[0];
                    let zp = inputs[2].unwrap().to_vec::<i8>().unwrap()[0] as f32;
                    let q = x.to_vec::<i8>().unwrap();
                    q.iter().map(|&q| (q as f32 - zp) * scale).collect()
                }
                op => return Err(format!("no {op}")),
            };
            Ok(vec![Tensor::from_vec(x.shape(), v).unwrap()])
        }
    }

    fn graph() -> Graph {
        let mut g = Graph::default();
        let f = |v: Vec<f32>| Tensor::from_vec(&[2], v).unwrap();
        g.initializers = vec![
            ("a".into(), f(vec![1.0, 2.0])),
            ("b".into(), f(vec![10.0, 20.0])),
        ];
        g.inputs.push(ValueDecl {
            name: "x".into(),
            ty: TypeInfo::tensor(
                ort_core::ElemType::F32,
                Some(vec![Dim::Known(2), Dim::Known(3)]),
            ),
        });
        g.outputs.push(ValueDecl {
            name: "y".into(),
            ty: TypeInfo::Unknown,
        });
        g.types.insert("x".into(), g.inputs[0].ty.clone());
        g.nodes = vec![
            edit::node("Add", "", "ab", &["a", "b"], &["ab"], vec![]),
            edit::node("Add", "", "abb", &["ab", "b"], &["abb"], vec![]),
            edit::node(
                "Shape",
                "",
                "s",
                &["x"],
                &["sx"],
                vec![edit::attr_int("start", -1)],
            ),
            edit::node("Add", "", "y", &["x", "abb"], &["y"], vec![]),
        ];
        g
    }

    fn run(g: &mut Graph, eval: Option<&dyn Evaluator>) -> usize {
        let opsets = BTreeMap::new();
        ConstantFolding
            .run(
                g,
                &PassContext {
                    opsets: &opsets,
                    is_main: true,
                    eval,
                },
            )
            .unwrap()
    }

    #[test]
    fn folds_chains_and_static_shapes_not_inputs() {
        let mut g = graph();
        assert_eq!(run(&mut g, Some(&Arith)), 3);
        let ops: Vec<&str> = g.nodes.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, vec!["Add"], "the Add of the input x stays");
        let abb = g.initializer("abb").unwrap().to_vec::<f32>().unwrap();
        assert_eq!(abb, vec![21.0, 42.0]);
        assert_eq!(
            g.initializer("sx").unwrap().to_vec::<i64>().unwrap(),
            vec![3]
        );
    }

    #[test]
    fn without_an_evaluator_only_shapes_fold() {
        let mut g = graph();
        assert_eq!(run(&mut g, None), 1);
        assert_eq!(g.nodes.len(), 3);
    }

    #[test]
    fn dequantized_constants_fold_at_the_extended_level_only() {
        let mut g = Graph {
            initializers: vec![
                (
                    "w".into(),
                    Tensor::from_vec(&[3], vec![-4i8, 0, 6]).unwrap(),
                ),
                ("s".into(), Tensor::scalar(0.5f32)),
                ("z".into(), Tensor::scalar(2i8)),
            ],
            ..Graph::default()
        };
        g.inputs.push(ValueDecl {
            name: "x".into(),
            ty: TypeInfo::tensor(ort_core::ElemType::I8, Some(vec![Dim::Known(3)])),
        });
        g.nodes = vec![
            edit::node(
                "DequantizeLinear",
                "",
                "dw",
                &["w", "s", "z"],
                &["fw"],
                vec![],
            ),
            edit::node(
                "DequantizeLinear",
                "",
                "dx",
                &["x", "s", "z"],
                &["fx"],
                vec![],
            ),
        ];
        let opsets = BTreeMap::new();
        let ctx = PassContext {
            opsets: &opsets,
            is_main: true,
            eval: Some(&Arith),
        };
        assert_eq!(ConstantFolding.run(&mut g, &ctx).unwrap(), 0);
        assert_eq!(DequantizeConstants.run(&mut g, &ctx).unwrap(), 1);
        assert_eq!(g.nodes.len(), 1, "the input's DequantizeLinear stays");
        let fw = g.initializer("fw").unwrap().to_vec::<f32>().unwrap();
        assert_eq!(fw, vec![-3.0, -1.0, 2.0]);
    }

    #[test]
    fn random_ops_and_overridable_initializers_stay() {
        let mut g = graph();
        // An input named like the initializer lets the caller replace it.
        g.inputs.push(ValueDecl {
            name: "a".into(),
            ty: TypeInfo::Unknown,
        });
        g.nodes
            .push(edit::node("RandomNormal", "", "r", &[], &["r"], vec![]));
        assert_eq!(run(&mut g, Some(&Arith)), 1, "only the Shape folds");
        assert!(g.nodes.iter().any(|n| n.op_type == "RandomNormal"));
    }
}
