//! Removes nodes whose outputs nobody reads and initializers nobody uses.

use std::collections::HashSet;

use ort_graph::Graph;

use crate::{Level, Pass, PassContext};

pub struct DeadCode;

impl Pass for DeadCode {
    fn name(&self) -> &str {
        "dead-code"
    }
    fn level(&self) -> Level {
        Level::Basic
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        let mut live: HashSet<String> = g.outputs.iter().map(|o| o.name.clone()).collect();
        let mut keep = vec![false; g.nodes.len()];
        for (i, n) in g.nodes.iter().enumerate().rev() {
            // Nodes with no outputs at all are kept: they may exist for effect in
            // unknown domains.
            if n.outputs.iter().any(|o| live.contains(o)) || n.outputs.iter().all(|o| o.is_empty())
            {
                keep[i] = true;
                live.extend(n.present_inputs().map(String::from));
                for sg in n.subgraphs() {
                    live.extend(sg.outer_scope_names());
                }
            }
        }
        let before = g.nodes.len() + g.initializers.len();
        let mut it = keep.into_iter();
        g.nodes.retain(|_| it.next().unwrap_or(true));
        let inputs: HashSet<&str> = g.inputs.iter().map(|i| i.name.as_str()).collect();
        g.initializers
            .retain(|(n, _)| live.contains(n) || inputs.contains(n.as_str()));
        Ok(before - g.nodes.len() - g.initializers.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ort_graph::{Node, ValueDecl};

    fn node(op: &str, ins: &[&str], outs: &[&str]) -> Node {
        Node {
            name: outs[0].into(),
            op_type: op.into(),
            domain: String::new(),
            inputs: ins.iter().map(|s| s.to_string()).collect(),
            outputs: outs.iter().map(|s| s.to_string()).collect(),
            attrs: vec![],
        }
    }

    #[test]
    fn removes_unused_branch_only() {
        let mut g = Graph::default();
        g.inputs.push(ValueDecl {
            name: "x".into(),
            ty: ort_core::TypeInfo::Unknown,
        });
        g.outputs.push(ValueDecl {
            name: "y".into(),
            ty: ort_core::TypeInfo::Unknown,
        });
        g.nodes = vec![
            node("Relu", &["x"], &["y"]),
            node("Neg", &["x"], &["dead"]),
            node("Abs", &["dead"], &["dead2"]),
        ];
        let n = crate::run_pass(&DeadCode, &mut g, 17);
        assert_eq!(n, 2);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.nodes[0].op_type, "Relu");
    }
}
