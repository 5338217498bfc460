//! The execution plan, built from a partitioned graph in stages:
//!
//! 1. [`values`]: every value gets an id;
//! 2. [`units`]: each claimed group and host node becomes a unit with its
//!    boundary values, and the units are ordered by dependency;
//! 3. compile: each unit becomes a step (a provider's compiled partition here,
//!    a control-flow node with its sub-plans in [`host`]);
//! 4. [`place`]: copy steps where a value crosses into another memory;
//! 5. [`lifetimes`]: for each step, the values whose last use it is (dropped at
//!    once, so the arena reuses their buffers).
//!
//! [`Draft`] holds the state the stages fill in for one graph.

mod host;
mod lifetimes;
mod place;
mod units;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ort_core::abi::{FusedNode, GraphView, RString};
use ort_core::host::{CompiledPartition, ProviderInstance};
use ort_core::{DeviceId, MemoryKind, Value};
use ort_graph::view::graph_view;
use ort_graph::{Graph, ValueDecl};

use crate::error::{Error, Result};
use crate::partition::{Owner, Partitioned};
use units::Unit;
use values::Values;

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
    /// names the plan was built with (`Planner::build`'s `outer`).
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

/// Builds plans for one session's providers.
pub struct Planner<'a> {
    pub opsets: &'a BTreeMap<String, i64>,
    pub providers: &'a [Arc<ProviderInstance>],
}

/// The planner's state for one graph.
struct Draft<'a> {
    planner: &'a Planner<'a>,
    values: Values,
    device_of: Vec<DeviceId>,
    /// (value, memory) → the value's copy there.
    copies: HashMap<(usize, DeviceId), usize>,
    steps: Vec<Step>,
    /// Partitions compiled so far, for the names of fused ones.
    partitions: usize,
}

impl<'a> Planner<'a> {
    /// The plan for `g` as partitioned in `parts`; `outer` names the values it
    /// reads from enclosing scopes.
    pub fn build(&self, g: &Graph, parts: &Partitioned, outer: &[String]) -> Result<Plan> {
        let values = Values::new(g, outer);
        let units = units::units(g, &parts.assignment, &values.index);
        let order = units::order(g, &units)?;
        let assigned: Vec<String> = parts
            .assignment
            .owner
            .iter()
            .map(|o| match o {
                Owner::Provider(p) => self.providers[*p].name().to_string(),
                Owner::Host => "host".to_string(),
            })
            .collect();
        // Providers compile with the final assignment visible.
        let view = graph_view(g, self.opsets, &assigned, outer);
        let mut d = Draft {
            planner: self,
            device_of: vec![DeviceId::HOST; values.names.len()],
            values,
            copies: HashMap::new(),
            steps: Vec::new(),
            partitions: 0,
        };
        for &ui in &order {
            let u = &units[ui];
            match u.provider {
                Some(p) => d.compile(g, &view, u, p)?,
                None => d.host(g, parts, u.nodes[0])?,
            }
        }
        // Graph outputs end on the host.
        let outputs = g
            .outputs
            .iter()
            .map(|o| {
                let src = d.values.require(&o.name, "graph output")?;
                d.place(src, DeviceId::HOST)
            })
            .collect::<Result<Vec<_>>>()?;
        d.finish(g, outputs)
    }
}

impl Draft<'_> {
    /// Compiles unit `u`, claimed by provider `p`, into one step.
    fn compile(&mut self, g: &Graph, view: &GraphView<'_>, u: &Unit, p: usize) -> Result<()> {
        let provider = self.planner.providers[p].clone();
        let label = if u.nodes.len() == 1 {
            g.nodes[u.nodes[0]].name.clone()
        } else {
            format!("{}_{}_{}", provider.name(), g.name, self.partitions)
        };
        self.partitions += 1;
        let fused = FusedNode {
            name: RString::from(label.as_str()),
            graph: view,
            nodes: u.nodes.iter().map(|&i| i as u32).collect(),
            inputs: u.ins.iter().map(|s| RString::from(s.as_str())).collect(),
            outputs: u.outs.iter().map(|s| RString::from(s.as_str())).collect(),
        };
        let part = provider.compile(&fused).map_err(|e| {
            Error::partition(format!(
                "provider {} failed to compile {}: {e}",
                provider.name(),
                g.nodes[u.nodes[0]].describe()
            ))
        })?;
        let dev = provider.memory().device;
        // Shape and Size on the host read only a tensor's metadata: a device
        // tensor is passed as it is, with no copy and no wait.
        let first = &g.nodes[u.nodes[0]];
        let metadata_only = dev.kind == MemoryKind::Host
            && u.nodes.len() == 1
            && matches!(first.domain.as_str(), "" | "ai.onnx")
            && matches!(first.op_type.as_str(), "Shape" | "Size");
        let mut inputs = Vec::with_capacity(u.ins.len());
        for (k, name) in u.ins.iter().enumerate() {
            let src = self.values.require(name, "value")?;
            inputs.push(Some(if metadata_only {
                src
            } else {
                self.place(src, part.input_memory(k).unwrap_or(dev))?
            }));
        }
        let outputs: Vec<Option<usize>> = u.outs.iter().map(|o| self.values.id(o)).collect();
        for o in outputs.iter().flatten() {
            self.device_of[*o] = dev;
        }
        let ops: Vec<&str> = u
            .nodes
            .iter()
            .map(|&i| g.nodes[i].op_type.as_str())
            .collect();
        self.steps.push(Step {
            kind: StepKind::Compute(part),
            inputs,
            outputs,
            label,
            op: ops.join("+"),
            provider: provider.name().to_string(),
        });
        Ok(())
    }

    fn finish(self, g: &Graph, outputs: Vec<usize>) -> Result<Plan> {
        let mut constant_copies = Vec::new();
        for (&(src, to), &dst) in &self.copies {
            if self.values.overridable.iter().any(|(_, id)| *id == src)
                && self.values.constants.iter().any(|(id, _)| *id == dst)
            {
                let from = self.device_of[src];
                let p = self.copier(from, to).ok_or_else(|| {
                    Error::partition(format!("no provider can copy {from:?} to {to:?}"))
                })?;
                let via = self.planner.providers[p].clone();
                constant_copies.push(ConstantCopy { src, dst, via, to });
            }
        }
        let v = self.values;
        let free_after = lifetimes::free_after(&self.steps, v.names.len(), &outputs);
        Ok(Plan {
            names: v.names,
            inputs: v.inputs,
            input_decls: v.input_decls,
            overridable: v.overridable,
            outputs,
            output_decls: g.outputs.clone(),
            constants: v.constants,
            constant_copies,
            captures: v.captures,
            steps: self.steps,
            free_after,
        })
    }
}
