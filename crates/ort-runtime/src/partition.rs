//! Partitioning: providers in priority order each claim groups of the nodes still
//! unassigned (GetCapability); every group becomes one fused node. Control-flow
//! nodes nobody claims run in the host, whose subgraphs are partitioned the same way.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use ort_core::host::ProviderInstance;
use ort_graph::view::graph_view;
use ort_graph::{AttrValue, Graph};

use crate::error::{Error, Result};

/// Who runs a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Owner {
    /// Index into the session's provider list.
    Provider(usize),
    /// The host's own If / Loop / Scan / SequenceMap.
    Host,
}

pub struct Assignment {
    pub owner: Vec<Owner>,
    /// Groups as claimed: (provider index, node indices).
    pub groups: Vec<(usize, Vec<usize>)>,
    /// Per node: (provider, reason) for each provider that declined it.
    pub declined: Vec<Vec<(String, String)>>,
}

/// A graph's assignment, with those of the subgraphs its host nodes run.
pub struct Partitioned {
    pub assignment: Assignment,
    /// By (node index, graph attribute name).
    pub subgraphs: HashMap<(usize, String), Partitioned>,
}

impl Partitioned {
    /// The partitioning of host node `node`'s subgraph attribute `attr`.
    pub fn subgraph(&self, node: usize, attr: &str) -> Option<&Partitioned> {
        self.subgraphs.get(&(node, attr.to_string()))
    }
}

/// Partitions `g` and, below each node the host runs, its subgraphs; `outer` names
/// the values `g` reads from enclosing scopes.
pub fn partition(
    g: &Graph,
    opsets: &BTreeMap<String, i64>,
    providers: &[Arc<ProviderInstance>],
    outer: &[String],
) -> Result<Partitioned> {
    let assignment = assign(g, opsets, providers, outer)?;
    let mut subgraphs = HashMap::new();
    for (i, node) in g.nodes.iter().enumerate() {
        if assignment.owner[i] != Owner::Host {
            continue;
        }
        for a in &node.attrs {
            if let AttrValue::Graph(sg) = &a.value {
                let inner = partition(sg, opsets, providers, &sg.outer_scope_names())?;
                subgraphs.insert((i, a.name.clone()), inner);
            }
        }
    }
    Ok(Partitioned {
        assignment,
        subgraphs,
    })
}

const HOST_OPS: &[&str] = &["If", "Loop", "Scan", "SequenceMap"];

fn assign(
    g: &Graph,
    opsets: &BTreeMap<String, i64>,
    providers: &[Arc<ProviderInstance>],
    outer: &[String],
) -> Result<Assignment> {
    let n = g.nodes.len();
    let mut names: Vec<String> = vec![String::new(); n];
    let mut owner: Vec<Option<Owner>> = vec![None; n];
    let mut groups = Vec::new();
    let mut declined: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
    for (pi, p) in providers.iter().enumerate() {
        if owner.iter().all(|o| o.is_some()) {
            break;
        }
        let view = graph_view(g, opsets, &names, outer);
        let cap = p.get_capability(&view).map_err(|e| {
            Error::partition(format!("provider {}: GetCapability failed: {e}", p.name()))
        })?;
        for grp in cap.groups.iter() {
            let idx: Vec<usize> = grp.iter().map(|&i| i as usize).collect();
            let distinct: HashSet<usize> = idx.iter().copied().collect();
            if idx.is_empty()
                || distinct.len() != idx.len()
                || idx.iter().any(|&i| i >= n || owner[i].is_some())
            {
                tracing::warn!(
                    "provider {} claimed an invalid or already assigned group {:?}; ignored",
                    p.name(),
                    idx
                );
                continue;
            }
            if idx.len() > 1 && !convex(g, &distinct) {
                tracing::warn!(
                    "provider {} claimed a non-convex group {:?}; ignored",
                    p.name(),
                    idx
                );
                continue;
            }
            for &i in &idx {
                owner[i] = Some(Owner::Provider(pi));
                names[i] = p.name().to_string();
            }
            groups.push((pi, idx));
        }
        for d in cap.declined.iter() {
            if let Some(v) = declined.get_mut(d.0 as usize) {
                v.push((p.name().to_string(), d.1.to_string()));
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    for (i, o) in owner.into_iter().enumerate() {
        let node = &g.nodes[i];
        match o {
            Some(o) => out.push(o),
            None if node.domain.is_empty() && HOST_OPS.contains(&node.op_type.as_str()) => {
                out.push(Owner::Host)
            }
            None => {
                let types: Vec<String> = node
                    .present_inputs()
                    .map(|v| g.types.get(v).map_or("?".to_string(), |t| t.to_string()))
                    .collect();
                let opset = opsets.get(&node.domain).copied().unwrap_or(0);
                let why: Vec<String> = declined[i]
                    .iter()
                    .map(|(p, r)| format!("{p}: {r}"))
                    .collect();
                return Err(Error::partition(format!(
                    "{} at opset {opset} with inputs [{}]: no provider can run it ({})",
                    node.describe(),
                    types.join(", "),
                    if why.is_empty() {
                        "no provider looked at it".to_string()
                    } else {
                        why.join("; ")
                    }
                )));
            }
        }
    }
    Ok(Assignment {
        owner: out,
        groups,
        declined,
    })
}

/// A group is convex when no path leaves it and comes back: otherwise it could not
/// run as one unit.
fn convex(g: &Graph, group: &HashSet<usize>) -> bool {
    let producer: std::collections::HashMap<&str, usize> = g
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.outputs.iter().map(move |o| (o.as_str(), i)))
        .collect();
    // Walk backwards from group nodes through outside nodes; reaching the group again
    // means a path group → outside → group.
    let mut stack: Vec<usize> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    for &i in group {
        for inp in g.nodes[i].present_inputs() {
            if let Some(&p) = producer.get(inp) {
                if !group.contains(&p) && seen.insert(p) {
                    stack.push(p);
                }
            }
        }
    }
    while let Some(i) = stack.pop() {
        for inp in g.nodes[i].present_inputs() {
            if let Some(&p) = producer.get(inp) {
                if group.contains(&p) {
                    return false;
                }
                if seen.insert(p) {
                    stack.push(p);
                }
            }
        }
    }
    true
}
