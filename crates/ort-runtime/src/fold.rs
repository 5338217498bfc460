//! Constant folding's evaluator: runs one node on constant inputs through the CPU
//! provider, the same kernels a session would use, so folded values are exactly
//! what running the graph would give.

use std::collections::BTreeMap;
use std::sync::Arc;

use ort_core::host::ProviderInstance;
use ort_core::{Tensor, TypeInfo, Value};
use ort_graph::{Graph, Node, ValueDecl};
use ort_optimizer::Evaluator;

use crate::arena::Arena;
use crate::execute::Exec;
use crate::plan::{Builder, Explain};

pub struct CpuEvaluator {
    pub cpu: Arc<ProviderInstance>,
    pub arena: Arena,
}

impl Evaluator for CpuEvaluator {
    fn eval(
        &self,
        node: &Node,
        inputs: &[Option<&Tensor>],
        opsets: &BTreeMap<String, i64>,
    ) -> Result<Vec<Tensor>, String> {
        let mut g = Graph {
            name: "fold".into(),
            nodes: vec![node.clone()],
            ..Graph::default()
        };
        for (name, t) in node.inputs.iter().zip(inputs) {
            if let Some(t) = t {
                if g.initializer(name).is_none() {
                    g.types
                        .insert(name.clone(), ort_optimizer::edit::known_type(t));
                    g.initializers.push((name.clone(), (*t).clone()));
                }
            }
        }
        for o in node.outputs.iter().filter(|o| !o.is_empty()) {
            g.outputs.push(ValueDecl {
                name: o.clone(),
                ty: TypeInfo::Unknown,
            });
        }
        ort_graph::infer::graph(&mut g, opsets, &Default::default());
        let providers = [self.cpu.clone()];
        let mut b = Builder {
            opsets,
            providers: &providers,
            explain: Explain::default(),
        };
        let plan = b.build(&g, &[]).map_err(|e| e.to_string())?;
        let ex = Exec {
            arena: &self.arena,
            profiler: None,
        };
        let outs = ex
            .run(&plan, vec![], vec![], vec![])
            .map_err(|e| e.to_string())?;
        outs.into_iter()
            .map(|v| match v {
                Value::Tensor(t) => t.deep_copy().map_err(|e| e.to_string()),
                other => Err(format!("folding gave a {}", other.kind_name())),
            })
            .collect()
    }
}
