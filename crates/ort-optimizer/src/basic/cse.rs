//! Common subexpression elimination: of two nodes with the same op, inputs and
//! attributes, the second is dropped and its readers read the first's outputs.
//! Tiny initializers with equal contents are merged first, so constants exported
//! once per use still match.

use std::collections::HashMap;

use ort_graph::{AttrValue, Graph, Node};

use crate::edit::{self, Uses};
use crate::{Level, Pass, PassContext};

pub struct CommonSubexpressions;

/// Ops whose outputs differ between two calls with the same inputs.
const RANDOM: &[&str] = &[
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
    "Dropout",
];

impl Pass for CommonSubexpressions {
    fn name(&self) -> &str {
        "common-subexpressions"
    }
    fn level(&self) -> Level {
        Level::Basic
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        let mut changes = merge_small_initializers(g);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut i = 0;
        while i < g.nodes.len() {
            let n = &g.nodes[i];
            let Some(key) = key(n) else {
                i += 1;
                continue;
            };
            match seen.get(&key) {
                Some(&first) => {
                    let uses = Uses::new(g);
                    let dup = &g.nodes[i];
                    // A graph output must keep being produced under its own name.
                    if dup.outputs.iter().any(|o| uses.is_graph_output(o)) {
                        i += 1;
                        continue;
                    }
                    let pairs: Vec<(String, String)> = dup
                        .outputs
                        .iter()
                        .zip(&g.nodes[first].outputs)
                        .filter(|(d, _)| !d.is_empty())
                        .map(|(d, f)| (d.clone(), f.clone()))
                        .collect();
                    if pairs.iter().any(|(_, f)| f.is_empty()) {
                        i += 1;
                        continue;
                    }
                    g.nodes.remove(i);
                    for (d, f) in pairs {
                        edit::redirect(g, &d, &f);
                    }
                    changes += 1;
                }
                None => {
                    seen.insert(key, i);
                    i += 1;
                }
            }
        }
        Ok(changes)
    }
}

/// Identifies what a node computes; None for nodes never merged.
fn key(n: &Node) -> Option<String> {
    if RANDOM.contains(&n.op_type.as_str()) || n.subgraphs().next().is_some() {
        return None;
    }
    let mut k = format!(
        "{}|{}|{}|{}|",
        n.domain,
        n.op_type,
        n.inputs.join(","),
        n.outputs.len()
    );
    for a in &n.attrs {
        k.push_str(&a.name);
        k.push('=');
        match &a.value {
            AttrValue::Float(v) => k.push_str(&v.to_bits().to_string()),
            AttrValue::Int(v) => k.push_str(&v.to_string()),
            AttrValue::String(v) => k.push_str(&format!("{v:?}")),
            AttrValue::Floats(v) => k.push_str(&format!(
                "{:?}",
                v.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
            )),
            AttrValue::Ints(v) => k.push_str(&format!("{v:?}")),
            AttrValue::Strings(v) => k.push_str(&format!("{v:?}")),
            AttrValue::Tensor(t) => {
                let bytes = t.bytes()?;
                if bytes.len() > 256 {
                    return None;
                }
                k.push_str(&format!("{}{:?}{bytes:?}", t.elem(), t.shape()));
            }
            _ => return None,
        }
        k.push(';');
    }
    Some(k)
}

/// Merges initializers of at most 64 elements with equal type, shape and bytes.
fn merge_small_initializers(g: &mut Graph) -> usize {
    let inputs: std::collections::HashSet<&str> =
        g.inputs.iter().map(|i| i.name.as_str()).collect();
    let outputs: std::collections::HashSet<&str> =
        g.outputs.iter().map(|o| o.name.as_str()).collect();
    let mut first: HashMap<(String, Vec<i64>, Vec<u8>), String> = HashMap::new();
    let mut renames: Vec<(String, String)> = Vec::new();
    for (name, t) in &g.initializers {
        if t.len() > 64 || inputs.contains(name.as_str()) || outputs.contains(name.as_str()) {
            continue;
        }
        let Some(bytes) = t.bytes() else { continue };
        let key = (t.elem().to_string(), t.shape().to_vec(), bytes.to_vec());
        match first.get(&key) {
            Some(f) => renames.push((name.clone(), f.clone())),
            None => {
                first.insert(key, name.clone());
            }
        }
    }
    for (from, to) in &renames {
        edit::redirect(g, from, to);
    }
    let gone: std::collections::HashSet<&String> = renames.iter().map(|(f, _)| f).collect();
    let before = g.initializers.len();
    g.initializers.retain(|(n, _)| !gone.contains(n));
    before - g.initializers.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use edit::{attr_int, node};
    use ort_core::TypeInfo;
    use ort_graph::ValueDecl;

    fn run(g: &mut Graph) -> usize {
        crate::run_pass(&CommonSubexpressions, g, 17)
    }

    fn graph(nodes: Vec<Node>) -> Graph {
        let d = |n: &str| ValueDecl {
            name: n.into(),
            ty: TypeInfo::Unknown,
        };
        Graph {
            inputs: vec![d("x")],
            outputs: vec![d("y")],
            nodes,
            ..Graph::default()
        }
    }

    #[test]
    fn equal_nodes_merge() {
        let mut g = graph(vec![
            node("Shape", "", "s1", &["x"], &["a"], vec![]),
            node("Shape", "", "s2", &["x"], &["b"], vec![]),
            node("Add", "", "y", &["a", "b"], &["y"], vec![]),
        ]);
        assert_eq!(run(&mut g), 1);
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.nodes[1].inputs, vec!["a", "a"]);
    }

    #[test]
    fn different_attributes_or_random_ops_do_not() {
        let mut g = graph(vec![
            node(
                "Shape",
                "",
                "s1",
                &["x"],
                &["a"],
                vec![attr_int("start", 1)],
            ),
            node("Shape", "", "s2", &["x"], &["b"], vec![]),
            node("RandomNormalLike", "", "r1", &["x"], &["c"], vec![]),
            node("RandomNormalLike", "", "r2", &["x"], &["d"], vec![]),
            node("Sum", "", "y", &["a", "b", "c", "d"], &["y"], vec![]),
        ]);
        assert_eq!(run(&mut g), 0);
        assert_eq!(g.nodes.len(), 5);
    }
}
