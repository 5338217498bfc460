//! Constant folding's evaluator: runs one node on constant inputs through the CPU
//! provider, the same kernels a session would use, so folded values are exactly
//! what running the graph would give. The node is compiled and run directly: no
//! partitioning, plan or executor per folded node.

use std::collections::BTreeMap;
use std::sync::Arc;

use ort_core::abi::{FusedNode, RString};
use ort_core::host::ProviderInstance;
use ort_core::{Tensor, TypeInfo, Value};
use ort_graph::view::graph_view;
use ort_graph::{Graph, Node, ValueDecl};
use ort_optimizer::Evaluator;

use crate::arena::Arena;

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
        // A one-node graph whose inputs are typed graph inputs, so that inference
        // gives the kernel the output types it compiles for.
        let mut g = Graph {
            name: "fold".into(),
            nodes: vec![node.clone()],
            ..Graph::default()
        };
        let mut fed: Vec<&str> = Vec::new();
        for (name, t) in node.inputs.iter().zip(inputs) {
            if let Some(t) = t {
                if !fed.contains(&name.as_str()) {
                    fed.push(name);
                    let ty = ort_optimizer::edit::known_type(t);
                    g.types.insert(name.clone(), ty.clone());
                    g.inputs.push(ValueDecl {
                        name: name.clone(),
                        ty,
                    });
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
        let assigned = [self.cpu.name().to_string()];
        let view = graph_view(&g, opsets, &assigned, &[]);
        let fused = FusedNode {
            name: RString::from("fold"),
            graph: &view,
            nodes: vec![0].into(),
            inputs: fed.iter().map(|s| RString::from(*s)).collect(),
            outputs: node
                .outputs
                .iter()
                .filter(|o| !o.is_empty())
                .map(|s| RString::from(s.as_str()))
                .collect(),
        };
        let part = self.cpu.compile(&fused).map_err(|e| e.to_string())?;
        let values: Vec<Value> = fed
            .iter()
            .map(|name| {
                let at = node.inputs.iter().position(|i| i == name).expect("fed");
                Value::Tensor(inputs[at].expect("present").clone())
            })
            .collect();
        let refs: Vec<Option<&Value>> = values.iter().map(Some).collect();
        let outs = part
            .compute(&refs, &self.arena)
            .map_err(|e| e.to_string())?;
        outs.into_iter()
            .map(|v| match v {
                Some(Value::Tensor(t)) => t.deep_copy().map_err(|e| e.to_string()),
                Some(other) => Err(format!("folding gave a {}", other.kind_name())),
                None => Err("folding gave no value for an output".to_string()),
            })
            .collect()
    }
}
