//! The execution plan: partitions compiled into steps in dependency order, copy steps
//! where a value crosses into another memory, and for each step the values whose
//! lifetime ends there (dropped at once, so the arena reuses their buffers).

use ort_core::kit::Attributes;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use ort_core::abi::{FusedNode, RString};
use ort_core::host::{CompiledPartition, ProviderInstance};
use ort_core::{DeviceId, Value};
use ort_graph::view::graph_view;
use ort_graph::{AttrValue, Graph, ValueDecl};

use crate::error::{Error, Result};
use crate::partition::{assign, Owner};

pub struct Plan {
    pub names: Vec<String>,
    /// Runtime inputs (declared inputs without an initializer), in order.
    pub inputs: Vec<usize>,
    pub input_decls: Vec<ValueDecl>,
    /// Declared inputs that an initializer gives a default to: (id, default).
    pub overridable: Vec<(String, usize)>,
    pub outputs: Vec<usize>,
    pub output_decls: Vec<ValueDecl>,
    pub constants: Vec<(usize, Value)>,
    /// Initializers a graph input may override, copied to a device once at
    /// session creation: a run that overrides one copies its value again.
    pub constant_copies: Vec<ConstantCopy>,
    /// Ids of the values read from enclosing graphs, in the order of the
    /// names the plan was built with (`Builder::build`'s `outer`).
    pub captures: Vec<usize>,
    pub steps: Vec<Step>,
    pub free_after: Vec<Vec<usize>>,
}

/// An overridable initializer `src` whose copy in memory `to` is `dst`.
pub struct ConstantCopy {
    pub src: usize,
    pub dst: usize,
    pub via: Arc<ProviderInstance>,
    pub to: DeviceId,
}

pub struct Step {
    pub kind: StepKind,
    pub inputs: Vec<Option<usize>>,
    pub outputs: Vec<Option<usize>>,
    /// Node name (or fused partition name), op type(s), provider: for profiles and errors.
    pub label: String,
    pub op: String,
    pub provider: String,
}

pub enum StepKind {
    Compute(CompiledPartition),
    /// Copies input 0 into `to`'s memory through `via`'s data transfer.
    Copy {
        via: Arc<ProviderInstance>,
        to: DeviceId,
    },
    If {
        then_branch: SubPlan,
        else_branch: SubPlan,
    },
    Loop {
        body: SubPlan,
    },
    Scan {
        body: SubPlan,
        attrs: ScanAttrs,
    },
    /// Runs `body` once per item of the first input sequence; the other inputs are
    /// sequences (read item by item) or tensors (passed whole each time).
    SequenceMap {
        body: SubPlan,
    },
}

pub struct ScanAttrs {
    /// Scan-8: a leading batch axis on every input and output, and an optional
    /// `sequence_lens` first input.
    pub batched: bool,
    pub num_scan_inputs: usize,
    pub input_axes: Vec<i64>,
    pub input_dirs: Vec<i64>,
    pub output_axes: Vec<i64>,
    pub output_dirs: Vec<i64>,
}

pub struct SubPlan {
    pub plan: Plan,
    /// For each of the subplan's captures: the id of that value in the parent plan.
    pub parent_ids: Vec<usize>,
}

/// Which provider ran each node, and why others declined: for `--explain`.
#[derive(Default, Clone, Debug)]
pub struct Explain {
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

pub struct Builder<'a> {
    pub opsets: &'a BTreeMap<String, i64>,
    pub providers: &'a [Arc<ProviderInstance>],
    pub explain: Explain,
}

impl Builder<'_> {
    pub fn build(&mut self, g: &Graph, outer: &[String]) -> Result<Plan> {
        let mut names: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut intern = |n: &str, names: &mut Vec<String>| -> usize {
            *index.entry(n.to_string()).or_insert_with(|| {
                names.push(n.to_string());
                names.len() - 1
            })
        };
        let init_names: HashSet<&str> = g.initializers.iter().map(|(n, _)| n.as_str()).collect();
        let mut inputs = Vec::new();
        let mut input_decls = Vec::new();
        let mut overridable = Vec::new();
        for d in &g.inputs {
            let id = intern(&d.name, &mut names);
            if init_names.contains(d.name.as_str()) {
                overridable.push((d.name.clone(), id));
            } else {
                inputs.push(id);
                input_decls.push(d.clone());
            }
        }
        let constants: Vec<(usize, Value)> = g
            .initializers
            .iter()
            .map(|(n, t)| (intern(n, &mut names), Value::Tensor(t.clone())))
            .collect();
        let captures: Vec<usize> = outer.iter().map(|n| intern(n, &mut names)).collect();
        for n in &g.nodes {
            for o in n.outputs.iter().filter(|o| !o.is_empty()) {
                intern(o, &mut names);
            }
        }
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let id = |n: &str| -> Option<usize> {
            if n.is_empty() {
                None
            } else {
                index.get(n).copied()
            }
        };

        let asg = assign(g, self.opsets, self.providers, outer)?;

        // Units: claimed groups and host nodes.
        let mut units: Vec<(Option<usize>, Vec<usize>)> = asg
            .groups
            .iter()
            .map(|(p, n)| (Some(*p), n.clone()))
            .collect();
        for (i, o) in asg.owner.iter().enumerate() {
            if *o == Owner::Host {
                units.push((None, vec![i]));
            }
        }
        // Who reads each value (including subgraph captures), for unit boundaries.
        let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.nodes.iter().enumerate() {
            let mut reads: Vec<String> = n.present_inputs().map(String::from).collect();
            for sg in n.subgraphs() {
                reads.extend(sg.outer_scope_names());
            }
            for r in reads {
                if let Some((k, _)) = index.get_key_value(r.as_str()) {
                    readers.entry(k.as_str()).or_default().push(i);
                }
            }
        }
        let graph_outputs: HashSet<&str> = g.outputs.iter().map(|o| o.name.as_str()).collect();

        struct Unit {
            provider: Option<usize>,
            nodes: Vec<usize>,
            ins: Vec<String>,
            outs: Vec<String>,
        }
        let mut us: Vec<Unit> = Vec::new();
        for (provider, nodes) in units {
            let set: HashSet<usize> = nodes.iter().copied().collect();
            let mut produced: HashSet<&str> = HashSet::new();
            let mut ins: Vec<String> = Vec::new();
            let mut outs: Vec<String> = Vec::new();
            for &i in &nodes {
                let n = &g.nodes[i];
                let mut reads: Vec<String> = n.present_inputs().map(String::from).collect();
                if provider.is_some() {
                    for sg in n.subgraphs() {
                        reads.extend(sg.outer_scope_names());
                    }
                }
                for r in reads {
                    if !produced.contains(r.as_str())
                        && !ins.contains(&r)
                        && !set.iter().any(|&j| g.nodes[j].outputs.contains(&r))
                    {
                        ins.push(r);
                    }
                }
                for o in n.outputs.iter().filter(|o| !o.is_empty()) {
                    produced.insert(o);
                    let used_outside = readers
                        .get(o.as_str())
                        .is_some_and(|r| r.iter().any(|j| !set.contains(j)));
                    if provider.is_none() || used_outside || graph_outputs.contains(o.as_str()) {
                        outs.push(o.clone());
                    }
                }
            }
            us.push(Unit {
                provider,
                nodes,
                ins,
                outs,
            });
        }

        // Order units by their dependencies.
        let mut producer: HashMap<&str, usize> = HashMap::new();
        for (ui, u) in us.iter().enumerate() {
            for o in &u.outs {
                producer.insert(o.as_str(), ui);
            }
        }
        let mut indeg = vec![0usize; us.len()];
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); us.len()];
        for (ui, u) in us.iter().enumerate() {
            let mut deps: HashSet<usize> = HashSet::new();
            let mut reads: Vec<&str> = u.ins.iter().map(|s| s.as_str()).collect();
            let caps: Vec<String> = if u.provider.is_none() {
                u.nodes
                    .iter()
                    .flat_map(|&i| {
                        g.nodes[i]
                            .subgraphs()
                            .flat_map(|s| s.outer_scope_names())
                            .collect::<Vec<_>>()
                    })
                    .collect()
            } else {
                vec![]
            };
            reads.extend(caps.iter().map(|s| s.as_str()));
            for r in reads {
                if let Some(&p) = producer.get(r) {
                    if p != ui {
                        deps.insert(p);
                    }
                }
            }
            indeg[ui] = deps.len();
            for d in deps {
                next[d].push(ui);
            }
        }
        // Keep the graph's node order among independent units.
        let first_node = |u: &Unit| *u.nodes.iter().min().unwrap_or(&0);
        let mut ready: std::collections::BTreeSet<(usize, usize)> = (0..us.len())
            .filter(|&u| indeg[u] == 0)
            .map(|u| (first_node(&us[u]), u))
            .collect();
        let mut order = Vec::with_capacity(us.len());
        while let Some(&(k, u)) = ready.iter().next() {
            ready.remove(&(k, u));
            order.push(u);
            for &v in &next[u] {
                indeg[v] -= 1;
                if indeg[v] == 0 {
                    ready.insert((first_node(&us[v]), v));
                }
            }
        }
        if order.len() != us.len() {
            return Err(Error::Partition(format!(
                "graph '{}': the claimed partitions depend on each other in a cycle",
                g.name
            )));
        }

        // Compile, with the final assignment visible to providers.
        let assigned: Vec<String> = asg
            .owner
            .iter()
            .map(|o| match o {
                Owner::Provider(p) => self.providers[*p].name().to_string(),
                Owner::Host => "host".to_string(),
            })
            .collect();
        let view = graph_view(g, self.opsets, &assigned, outer);
        let mut device_of: Vec<DeviceId> = vec![DeviceId::HOST; names.len()];
        let mut copies: HashMap<(usize, DeviceId), usize> = HashMap::new();
        let mut steps: Vec<Step> = Vec::new();
        let mut constants = constants;
        let mut part_no = 0usize;
        for &ui in &order {
            let u = &us[ui];
            let step_outputs: Vec<Option<usize>> = u.outs.iter().map(|o| id(o)).collect();
            match u.provider {
                Some(pi) => {
                    let p = &self.providers[pi];
                    let label = if u.nodes.len() == 1 {
                        g.nodes[u.nodes[0]].name.clone()
                    } else {
                        format!("{}_{}_{part_no}", p.name(), g.name)
                    };
                    part_no += 1;
                    let ops: Vec<&str> = u
                        .nodes
                        .iter()
                        .map(|&i| g.nodes[i].op_type.as_str())
                        .collect();
                    let fused = FusedNode {
                        name: RString::from(label.as_str()),
                        graph: &view,
                        nodes: u.nodes.iter().map(|&i| i as u32).collect(),
                        inputs: u.ins.iter().map(|s| RString::from(s.as_str())).collect(),
                        outputs: u.outs.iter().map(|s| RString::from(s.as_str())).collect(),
                    };
                    let part = p.compile(&fused).map_err(|e| {
                        Error::Partition(format!(
                            "provider {} failed to compile {}: {e}",
                            p.name(),
                            g.nodes[u.nodes[0]].describe()
                        ))
                    })?;
                    let dev = p.memory().device;
                    // Shape and Size on the host read only a tensor's metadata:
                    // a device tensor is passed as it is, with no copy and no wait.
                    let metadata_only = dev.kind == ort_core::MemoryKind::Host
                        && u.nodes.len() == 1
                        && matches!(g.nodes[u.nodes[0]].domain.as_str(), "" | "ai.onnx")
                        && matches!(g.nodes[u.nodes[0]].op_type.as_str(), "Shape" | "Size");
                    let mut step_inputs = Vec::with_capacity(u.ins.len());
                    for (k, name) in u.ins.iter().enumerate() {
                        let src = id(name).ok_or_else(|| {
                            Error::Partition(format!("value '{name}' is not defined"))
                        })?;
                        if metadata_only {
                            step_inputs.push(Some(src));
                            continue;
                        }
                        step_inputs.push(Some(self.place(
                            src,
                            part.input_memory(k).unwrap_or(dev),
                            &mut names,
                            &mut device_of,
                            &mut copies,
                            &mut steps,
                            &mut constants,
                        )?));
                    }
                    for o in step_outputs.iter().flatten() {
                        device_of[*o] = dev;
                    }
                    steps.push(Step {
                        kind: StepKind::Compute(part),
                        inputs: step_inputs,
                        outputs: step_outputs,
                        label,
                        op: ops.join("+"),
                        provider: p.name().to_string(),
                    });
                }
                None => {
                    let node = &g.nodes[u.nodes[0]];
                    let mut step_inputs = Vec::new();
                    for name in &node.inputs {
                        step_inputs.push(match id(name) {
                            None => None,
                            Some(src) => Some(self.place(
                                src,
                                DeviceId::HOST,
                                &mut names,
                                &mut device_of,
                                &mut copies,
                                &mut steps,
                                &mut constants,
                            )?),
                        });
                    }
                    // Values the subgraphs read from this scope are host values
                    // there too: copy those a device made.
                    let mut captured = index.clone();
                    for n in node.subgraphs().flat_map(|sg| sg.outer_scope_names()) {
                        if let Some(&src) = index.get(&n) {
                            let placed = self.place(
                                src,
                                DeviceId::HOST,
                                &mut names,
                                &mut device_of,
                                &mut copies,
                                &mut steps,
                                &mut constants,
                            )?;
                            captured.insert(n, placed);
                        }
                    }
                    let kind = self.host_node(node, &captured)?;
                    // Control-flow outputs are always host values.
                    let outs: Vec<Option<usize>> = node.outputs.iter().map(|o| id(o)).collect();
                    steps.push(Step {
                        kind,
                        inputs: step_inputs,
                        outputs: outs,
                        label: node.name.clone(),
                        op: node.op_type.clone(),
                        provider: "host".into(),
                    });
                }
            }
        }
        // Graph outputs must end on the host.
        let mut outputs = Vec::new();
        for o in &g.outputs {
            let src = id(&o.name).ok_or_else(|| {
                Error::Partition(format!("graph output '{}' is not defined", o.name))
            })?;
            outputs.push(self.place(
                src,
                DeviceId::HOST,
                &mut names,
                &mut device_of,
                &mut copies,
                &mut steps,
                &mut constants,
            )?);
        }

        self.record_explain(
            g,
            &asg,
            &us.iter()
                .map(|u| (u.provider, u.nodes.len()))
                .collect::<Vec<_>>(),
        );

        let mut constant_copies = Vec::new();
        for (&(src, to), &dst) in &copies {
            if overridable.iter().any(|(_, id)| *id == src)
                && constants.iter().any(|(id, _)| *id == dst)
            {
                let via = self.transfer_provider(device_of[src], to)?;
                constant_copies.push(ConstantCopy { src, dst, via, to });
            }
        }
        let free_after = lifetimes(&steps, names.len(), &outputs);
        Ok(Plan {
            names,
            inputs,
            input_decls,
            overridable,
            outputs,
            output_decls: g.outputs.clone(),
            constants,
            constant_copies,
            captures,
            steps,
            free_after,
        })
    }

    /// The provider whose data transfer moves a value from memory `from` to `to`.
    fn transfer_provider(&self, from: DeviceId, to: DeviceId) -> Result<Arc<ProviderInstance>> {
        let device_side = if to.kind == ort_core::MemoryKind::Host {
            from
        } else {
            to
        };
        self.providers
            .iter()
            .find(|p| p.memory().device == device_side)
            .cloned()
            .ok_or_else(|| {
                Error::Partition(format!("no provider can copy between {from:?} and {to:?}"))
            })
    }

    /// The id of `src` in memory `dev`, adding a copy step (or copying a constant once,
    /// now) when it lives elsewhere.
    #[allow(clippy::too_many_arguments)]
    fn place(
        &self,
        src: usize,
        dev: DeviceId,
        names: &mut Vec<String>,
        device_of: &mut Vec<DeviceId>,
        copies: &mut HashMap<(usize, DeviceId), usize>,
        steps: &mut Vec<Step>,
        constants: &mut Vec<(usize, Value)>,
    ) -> Result<usize> {
        if device_of[src] == dev {
            return Ok(src);
        }
        if let Some(&c) = copies.get(&(src, dev)) {
            return Ok(c);
        }
        let via = self.transfer_provider(device_of[src], dev)?;
        names.push(format!("{}@{:?}{}", names[src], dev.kind, dev.device));
        device_of.push(dev);
        let dst = names.len() - 1;
        copies.insert((src, dev), dst);
        if let Some(v) = constants
            .iter()
            .find(|(i, _)| *i == src)
            .map(|(_, v)| v.clone())
        {
            // Initializers move once per session, not once per run.
            let t = v
                .as_tensor()
                .ok_or_else(|| Error::Partition("only tensors can be copied".into()))?;
            let moved = via
                .transfer(t, dev)
                .map_err(|e| Error::Partition(format!("uploading '{}': {e}", names[src])))?;
            constants.push((dst, Value::Tensor(moved)));
        } else {
            steps.push(Step {
                kind: StepKind::Copy {
                    via: via.clone(),
                    to: dev,
                },
                inputs: vec![Some(src)],
                outputs: vec![Some(dst)],
                label: format!("copy {}", names[src]),
                op: "MemcpyTransfer".into(),
                provider: via.name().to_string(),
            });
        }
        Ok(dst)
    }

    fn host_node(
        &mut self,
        node: &ort_graph::Node,
        index: &HashMap<String, usize>,
    ) -> Result<StepKind> {
        let mut sub = |attr: &str| -> Result<SubPlan> {
            let Some(AttrValue::Graph(sg)) = node.attr(attr) else {
                return Err(Error::Partition(format!(
                    "{}: missing graph attribute '{attr}'",
                    node.describe()
                )));
            };
            let outer = sg.outer_scope_names();
            let plan = self.build(sg, &outer)?;
            let parent_ids = outer
                .iter()
                .map(|n| {
                    index.get(n).copied().ok_or_else(|| {
                        Error::Partition(format!(
                            "{}: subgraph reads '{n}', which is not defined",
                            node.describe()
                        ))
                    })
                })
                .collect::<Result<_>>()?;
            Ok(SubPlan { plan, parent_ids })
        };
        Ok(match node.op_type.as_str() {
            "If" => StepKind::If {
                then_branch: sub("then_branch")?,
                else_branch: sub("else_branch")?,
            },
            "Loop" => StepKind::Loop { body: sub("body")? },
            "SequenceMap" => StepKind::SequenceMap { body: sub("body")? },
            "Scan" => {
                let body = sub("body")?;
                let k = node
                    .attr_opt_int("num_scan_inputs")
                    .ok()
                    .flatten()
                    .ok_or_else(|| {
                        Error::Partition(format!("{}: missing num_scan_inputs", node.describe()))
                    })? as usize;
                let ints = |n: &str| {
                    node.attr_ints(n)
                        .ok()
                        .flatten()
                        .map(|v| v.to_vec())
                        .unwrap_or_default()
                };
                StepKind::Scan {
                    body,
                    attrs: ScanAttrs {
                        batched: self.opsets.get("").copied().unwrap_or(0) < 9,
                        num_scan_inputs: k,
                        input_axes: ints("scan_input_axes"),
                        input_dirs: ints(if node.attr("scan_input_directions").is_some() {
                            "scan_input_directions"
                        } else {
                            "directions"
                        }),
                        output_axes: ints("scan_output_axes"),
                        output_dirs: ints("scan_output_directions"),
                    },
                }
            }
            other => return Err(Error::Partition(format!("the host cannot run {other}"))),
        })
    }

    fn record_explain(
        &mut self,
        g: &Graph,
        asg: &crate::partition::Assignment,
        units: &[(Option<usize>, usize)],
    ) {
        for (i, n) in g.nodes.iter().enumerate() {
            let provider = match asg.owner[i] {
                Owner::Provider(p) => self.providers[p].name().to_string(),
                Owner::Host => "host".to_string(),
            };
            let declined = asg.declined[i]
                .iter()
                .filter(|(p, _)| *p != provider)
                .cloned()
                .collect();
            self.explain.counts.entry(provider.clone()).or_default().0 += 1;
            self.explain.nodes.push(ExplainNode {
                graph: g.name.clone(),
                node: n.name.clone(),
                op: n.op_type.clone(),
                provider,
                declined,
            });
        }
        for (p, _) in units {
            let name = match p {
                Some(p) => self.providers[*p].name().to_string(),
                None => "host".to_string(),
            };
            self.explain.counts.entry(name).or_default().1 += 1;
        }
    }
}

/// For each step, the values whose last reader it is (or that it produces for nobody).
fn lifetimes(steps: &[Step], n: usize, outputs: &[usize]) -> Vec<Vec<usize>> {
    let mut last: Vec<Option<usize>> = vec![None; n];
    for (s, step) in steps.iter().enumerate() {
        for i in step.inputs.iter().flatten() {
            last[*i] = Some(s);
        }
        let caps: Vec<usize> = match &step.kind {
            StepKind::If {
                then_branch,
                else_branch,
            } => then_branch
                .parent_ids
                .iter()
                .chain(&else_branch.parent_ids)
                .copied()
                .collect(),
            StepKind::Loop { body }
            | StepKind::Scan { body, .. }
            | StepKind::SequenceMap { body } => body.parent_ids.clone(),
            _ => vec![],
        };
        for c in caps {
            last[c] = Some(s);
        }
        for o in step.outputs.iter().flatten() {
            if last[*o].is_none() {
                last[*o] = Some(s);
            }
        }
    }
    for &o in outputs {
        last[o] = None;
    }
    let mut free = vec![Vec::new(); steps.len()];
    for (v, l) in last.into_iter().enumerate() {
        if let Some(s) = l {
            free[s].push(v);
        }
    }
    free
}
