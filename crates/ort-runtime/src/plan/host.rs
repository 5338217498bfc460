//! Control-flow nodes the host runs (If, Loop, Scan, SequenceMap): their inputs
//! and the values their subgraphs capture are placed on the host, and each
//! subgraph gets a plan of its own.

use ort_core::kit::Attributes;
use ort_core::DeviceId;
use ort_graph::{AttrValue, Graph, Node};

use super::{Draft, ScanAttrs, Step, StepKind, SubPlan};
use crate::error::{Error, Result};
use crate::partition::Partitioned;

impl Draft<'_> {
    /// Plans host node `i` into one step.
    pub fn host(&mut self, g: &Graph, parts: &Partitioned, i: usize) -> Result<()> {
        let node = &g.nodes[i];
        let mut inputs = Vec::with_capacity(node.inputs.len());
        for name in &node.inputs {
            inputs.push(match self.values.id(name) {
                None => None,
                Some(src) => Some(self.place(src, DeviceId::HOST)?),
            });
        }
        // Values the subgraphs read from this scope are host values there too.
        let mut captured = self.values.index.clone();
        for n in node.subgraphs().flat_map(|sg| sg.outer_scope_names()) {
            if let Some(&src) = self.values.index.get(&n) {
                let placed = self.place(src, DeviceId::HOST)?;
                captured.insert(n, placed);
            }
        }
        let sub = |attr: &str| -> Result<SubPlan> {
            let (Some(AttrValue::Graph(sg)), Some(inner)) =
                (node.attr(attr), parts.subgraph(i, attr))
            else {
                return Err(Error::partition(format!(
                    "{}: missing graph attribute '{attr}'",
                    node.describe()
                )));
            };
            let outer = sg.outer_scope_names();
            let plan = self.planner.build(sg, inner, &outer)?;
            let parent_ids = outer
                .iter()
                .map(|n| {
                    captured.get(n).copied().ok_or_else(|| {
                        Error::partition(format!(
                            "{}: subgraph reads '{n}', which is not defined",
                            node.describe()
                        ))
                    })
                })
                .collect::<Result<_>>()?;
            Ok(SubPlan { plan, parent_ids })
        };
        let kind = match node.op_type.as_str() {
            "If" => StepKind::If {
                then_branch: sub("then_branch")?,
                else_branch: sub("else_branch")?,
            },
            "Loop" => StepKind::Loop { body: sub("body")? },
            "SequenceMap" => StepKind::SequenceMap { body: sub("body")? },
            "Scan" => StepKind::Scan {
                body: sub("body")?,
                attrs: scan_attrs(node, self.planner.opsets.get("").copied().unwrap_or(0))?,
            },
            other => return Err(Error::partition(format!("the host cannot run {other}"))),
        };
        // Control-flow outputs are always host values.
        let outputs = node.outputs.iter().map(|o| self.values.id(o)).collect();
        self.steps.push(Step {
            kind,
            inputs,
            outputs,
            label: node.name.clone(),
            op: node.op_type.clone(),
            provider: "host".into(),
        });
        Ok(())
    }
}

fn scan_attrs(node: &Node, opset: i64) -> Result<ScanAttrs> {
    let k = node
        .attr_opt_int("num_scan_inputs")
        .ok()
        .flatten()
        .ok_or_else(|| Error::partition(format!("{}: missing num_scan_inputs", node.describe())))?;
    let ints = |n: &str| {
        node.attr_ints(n)
            .ok()
            .flatten()
            .map(|v| v.to_vec())
            .unwrap_or_default()
    };
    let input_dirs = if node.attr("scan_input_directions").is_some() {
        "scan_input_directions"
    } else {
        "directions"
    };
    Ok(ScanAttrs {
        batched: opset < 9,
        num_scan_inputs: k as usize,
        input_axes: ints("scan_input_axes"),
        input_dirs: ints(input_dirs),
        output_axes: ints("scan_output_axes"),
        output_dirs: ints("scan_output_directions"),
    })
}
