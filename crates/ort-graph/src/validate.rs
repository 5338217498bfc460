//! Structural validation: defined inputs, single producers, opset imports.

use std::collections::{BTreeMap, HashSet};

use crate::ir::Graph;

/// Checks a (sorted) graph. `outer` names the values enclosing graphs define.
pub fn graph(g: &Graph, opsets: &BTreeMap<String, i64>, outer: &[&str]) -> Result<(), String> {
    let mut defined: HashSet<&str> = outer.iter().copied().collect();
    let mut produced: HashSet<&str> = HashSet::new();
    for i in &g.inputs {
        if !produced.insert(i.name.as_str()) {
            return Err(format!(
                "graph '{}' declares input '{}' twice",
                g.name, i.name
            ));
        }
        defined.insert(&i.name);
    }
    for (n, _) in &g.initializers {
        defined.insert(n);
    }
    for node in &g.nodes {
        let domain_shown = if node.domain.is_empty() {
            "ai.onnx"
        } else {
            &node.domain
        };
        if !opsets.contains_key(&node.domain) {
            return Err(format!(
                "{}: the model does not import an opset for domain {domain_shown}",
                node.describe()
            ));
        }
        for inp in node.present_inputs() {
            if !defined.contains(inp) {
                return Err(format!(
                    "{}: input '{inp}' is not a graph input, an initializer, or the output of an earlier node",
                    node.describe()
                ));
            }
        }
        let visible: Vec<&str> = defined.iter().copied().collect();
        for sg in node.subgraphs() {
            graph(sg, opsets, &visible)?;
        }
        for out in node.outputs.iter().filter(|o| !o.is_empty()) {
            if !produced.insert(out.as_str()) || g.initializers.iter().any(|(n, _)| n == out) {
                return Err(format!(
                    "{}: output '{out}' is produced more than once in graph '{}'",
                    node.describe(),
                    g.name
                ));
            }
            defined.insert(out);
        }
    }
    for o in &g.outputs {
        if !defined.contains(o.name.as_str()) {
            return Err(format!(
                "graph output '{}' is not produced by any node, input or initializer",
                o.name
            ));
        }
    }
    Ok(())
}
