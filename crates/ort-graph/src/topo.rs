//! Topological sort: files need not list nodes in order.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::ir::Graph;

/// Sorts `g`'s nodes (and every subgraph's) so each comes after its producers.
pub fn sort_deep(g: &mut Graph) -> Result<(), String> {
    for n in &mut g.nodes {
        for a in &mut n.attrs {
            match &mut a.value {
                crate::ir::AttrValue::Graph(sg) => sort_deep(sg)?,
                crate::ir::AttrValue::Graphs(gs) => gs.iter_mut().try_for_each(sort_deep)?,
                _ => {}
            }
        }
    }
    sort(g)
}

/// Sorts one graph level, keeping file order among independent nodes.
pub fn sort(g: &mut Graph) -> Result<(), String> {
    let producer: HashMap<&str, usize> = g
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            n.outputs
                .iter()
                .filter(|o| !o.is_empty())
                .map(move |o| (o.as_str(), i))
        })
        .collect();
    let n = g.nodes.len();
    let mut indeg = vec![0usize; n];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node) in g.nodes.iter().enumerate() {
        let mut deps: HashSet<usize> = HashSet::new();
        let outer: Vec<String> = node
            .subgraphs()
            .flat_map(|s| s.outer_scope_names())
            .collect();
        for name in node
            .present_inputs()
            .chain(outer.iter().map(|s| s.as_str()))
        {
            if let Some(&p) = producer.get(name) {
                if p != i || node.outputs.iter().any(|o| o == name) {
                    deps.insert(p);
                }
            }
        }
        for p in deps {
            indeg[i] += 1;
            users[p].push(i);
        }
    }
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_front() {
        order.push(i);
        let mut next: Vec<usize> = Vec::new();
        for &u in &users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                next.push(u);
            }
        }
        next.sort_unstable();
        ready.extend(next);
    }
    if order.len() != n {
        let stuck: Vec<String> = (0..n)
            .filter(|&i| indeg[i] > 0)
            .take(5)
            .map(|i| g.nodes[i].describe())
            .collect();
        return Err(format!(
            "the graph has a cycle through {}",
            stuck.join(", ")
        ));
    }
    let mut old: Vec<Option<crate::ir::Node>> =
        std::mem::take(&mut g.nodes).into_iter().map(Some).collect();
    g.nodes = order
        .into_iter()
        .map(|i| old[i].take().expect("each node once"))
        .collect();
    Ok(())
}
