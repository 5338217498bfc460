//! The `--explain` report: which provider runs each node and why the others
//! declined it, read from the partitioning of the graph and its subgraphs.

use std::collections::BTreeMap;
use std::sync::Arc;

use ort_core::host::ProviderInstance;
use ort_graph::{AttrValue, Graph};

use crate::partition::{Owner, Partitioned};

/// Which provider ran each node, and why others declined: for `--explain`.
#[derive(Default, Clone, Debug)]
pub struct Explain {
    /// The main graph's nodes, each followed by those of its subgraphs.
    pub nodes: Vec<ExplainNode>,
    /// Per provider name: (nodes, partitions).
    pub counts: BTreeMap<String, (usize, usize)>,
}

#[derive(Clone, Debug)]
pub struct ExplainNode {
    pub graph: String,
    pub node: String,
    pub op: String,
    pub provider: String,
    pub declined: Vec<(String, String)>,
}

impl Explain {
    pub fn new(g: &Graph, parts: &Partitioned, providers: &[Arc<ProviderInstance>]) -> Explain {
        let mut e = Explain::default();
        e.add(g, parts, providers);
        e
    }

    fn add(&mut self, g: &Graph, parts: &Partitioned, providers: &[Arc<ProviderInstance>]) {
        let asg = &parts.assignment;
        let name = |o: &Owner| match o {
            Owner::Provider(p) => providers[*p].name().to_string(),
            Owner::Host => "host".to_string(),
        };
        for (p, _) in &asg.groups {
            self.counts.entry(name(&Owner::Provider(*p))).or_default().1 += 1;
        }
        for (i, n) in g.nodes.iter().enumerate() {
            let provider = name(&asg.owner[i]);
            let declined = asg.declined[i]
                .iter()
                .filter(|(p, _)| *p != provider)
                .cloned()
                .collect();
            let counts = self.counts.entry(provider.clone()).or_default();
            counts.0 += 1;
            if asg.owner[i] == Owner::Host {
                counts.1 += 1;
            }
            self.nodes.push(ExplainNode {
                graph: g.name.clone(),
                node: n.name.clone(),
                op: n.op_type.clone(),
                provider,
                declined,
            });
            for a in &n.attrs {
                if let (AttrValue::Graph(sg), Some(inner)) = (&a.value, parts.subgraph(i, &a.name))
                {
                    self.add(sg, inner, providers);
                }
            }
        }
    }
}
