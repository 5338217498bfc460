//! Units and their order: each claimed group and each host node is a unit, with
//! the values it reads from outside and those others read from it; units run in
//! dependency order, in graph order among independent ones.

use std::collections::{BTreeSet, HashMap, HashSet};

use ort_graph::Graph;

use crate::error::{Error, Result};
use crate::partition::{Assignment, Owner};

pub struct Unit {
    /// The claiming provider's index; None for a node the host runs.
    pub provider: Option<usize>,
    pub nodes: Vec<usize>,
    pub ins: Vec<String>,
    pub outs: Vec<String>,
}

/// The values node `i` reads, including those its subgraphs read from its scope.
fn reads(g: &Graph, i: usize, with_captures: bool) -> Vec<String> {
    let n = &g.nodes[i];
    let mut r: Vec<String> = n.present_inputs().map(String::from).collect();
    if with_captures {
        for sg in n.subgraphs() {
            r.extend(sg.outer_scope_names());
        }
    }
    r
}

pub fn units(g: &Graph, asg: &Assignment, index: &HashMap<String, usize>) -> Vec<Unit> {
    let mut groups: Vec<(Option<usize>, Vec<usize>)> = asg
        .groups
        .iter()
        .map(|(p, n)| (Some(*p), n.clone()))
        .collect();
    for (i, o) in asg.owner.iter().enumerate() {
        if *o == Owner::Host {
            groups.push((None, vec![i]));
        }
    }
    let mut readers: HashMap<String, Vec<usize>> = HashMap::new();
    for i in 0..g.nodes.len() {
        for r in reads(g, i, true) {
            if index.contains_key(&r) {
                readers.entry(r).or_default().push(i);
            }
        }
    }
    let graph_outputs: HashSet<&str> = g.outputs.iter().map(|o| o.name.as_str()).collect();
    groups
        .into_iter()
        .map(|(provider, nodes)| {
            let set: HashSet<usize> = nodes.iter().copied().collect();
            let inside = |r: &String| set.iter().any(|&j| g.nodes[j].outputs.contains(r));
            let mut produced: HashSet<&str> = HashSet::new();
            let mut ins: Vec<String> = Vec::new();
            let mut outs: Vec<String> = Vec::new();
            for &i in &nodes {
                // A host node's subgraph captures are placed with the subplan.
                for r in reads(g, i, provider.is_some()) {
                    if !produced.contains(r.as_str()) && !ins.contains(&r) && !inside(&r) {
                        ins.push(r);
                    }
                }
                for o in g.nodes[i].outputs.iter().filter(|o| !o.is_empty()) {
                    produced.insert(o);
                    let used_outside = readers
                        .get(o.as_str())
                        .is_some_and(|r| r.iter().any(|j| !set.contains(j)));
                    if provider.is_none() || used_outside || graph_outputs.contains(o.as_str()) {
                        outs.push(o.clone());
                    }
                }
            }
            Unit {
                provider,
                nodes,
                ins,
                outs,
            }
        })
        .collect()
}

/// The units in an order that runs each after the units it reads from.
pub fn order(g: &Graph, us: &[Unit]) -> Result<Vec<usize>> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (ui, u) in us.iter().enumerate() {
        for o in &u.outs {
            producer.insert(o.as_str(), ui);
        }
    }
    let mut indeg = vec![0usize; us.len()];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); us.len()];
    for (ui, u) in us.iter().enumerate() {
        let mut read: Vec<String> = u.ins.clone();
        if u.provider.is_none() {
            for &i in &u.nodes {
                read.extend(g.nodes[i].subgraphs().flat_map(|s| s.outer_scope_names()));
            }
        }
        let deps: HashSet<usize> = read
            .iter()
            .filter_map(|r| producer.get(r.as_str()).copied())
            .filter(|&p| p != ui)
            .collect();
        indeg[ui] = deps.len();
        for d in deps {
            next[d].push(ui);
        }
    }
    let first_node = |u: usize| *us[u].nodes.iter().min().unwrap_or(&0);
    let mut ready: BTreeSet<(usize, usize)> = (0..us.len())
        .filter(|&u| indeg[u] == 0)
        .map(|u| (first_node(u), u))
        .collect();
    let mut order = Vec::with_capacity(us.len());
    while let Some((_, u)) = ready.pop_first() {
        order.push(u);
        for &v in &next[u] {
            indeg[v] -= 1;
            if indeg[v] == 0 {
                ready.insert((first_node(v), v));
            }
        }
    }
    if order.len() != us.len() {
        return Err(Error::partition(format!(
            "graph '{}': the claimed partitions depend on each other in a cycle",
            g.name
        )));
    }
    Ok(order)
}
