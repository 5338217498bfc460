//! # ort-optimizer: graph transformations
//!
//! A [`Pass`] rewrites a [`Graph`] in place and says what it changed. The
//! [`PassManager`] runs the passes of the chosen [`Level`] (and any the user
//! registered) to a fixed point, or for at most [`MAX_ROUNDS`] rounds. Levels
//! follow ONNX Runtime: `disable`, `basic` (provider-independent cleanups),
//! `extended` (fusions) and `all`. Today `all` runs the same passes as
//! `extended`: it is where layout passes (NCHWc) go, once `ort bench` shows
//! one to gain.
//!
//! - [`basic`]: standard ONNX in, standard ONNX out: constant folding, redundant
//!   node elimination, common subexpressions, dead code (and, run at the
//!   extended level among the fusions, the folding of DequantizeLinear of
//!   constants).
//! - [`fuse`]: node fusions into ops of the project's own domain [`FUSED_DOMAIN`]
//!   (specified in `docs/fused-ops.md`), which the CPU provider implements.
//! - [`edit`]: what the passes share: readers and producers of values, constants,
//!   replacing a matched pattern with one node.

pub mod basic;
mod dead_code;
pub mod dims;
pub mod edit;
pub mod fuse;

use ort_core::Tensor;
use ort_graph::{Graph, Node};
use std::collections::BTreeMap;

pub use dead_code::DeadCode;

pub use ort_core::FUSED_DOMAIN;

/// Runs one node on constant inputs, for constant folding. The session gives one
/// backed by the CPU provider; without one, folding is skipped.
pub trait Evaluator: Send + Sync {
    /// `inputs` follow `node.inputs` (None where the input is left out). Returns
    /// one tensor per output of the node.
    fn eval(
        &self,
        node: &Node,
        inputs: &[Option<&Tensor>],
        opsets: &BTreeMap<String, i64>,
    ) -> Result<Vec<Tensor>, String>;
}

/// How much to optimize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    Disable,
    Basic,
    Extended,
    #[default]
    All,
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        Ok(match s {
            "disable" => Level::Disable,
            "basic" => Level::Basic,
            "extended" => Level::Extended,
            "all" => Level::All,
            _ => {
                return Err(format!(
                    "unknown optimization level '{s}' (disable, basic, extended, all)"
                ))
            }
        })
    }
}

/// What the pass sees besides the graph.
pub struct PassContext<'a> {
    pub opsets: &'a BTreeMap<String, i64>,
    /// True for the main graph; false inside subgraphs. Both keep their outputs.
    pub is_main: bool,
    /// Runs nodes on constants (constant folding); None when not available.
    pub eval: Option<&'a dyn Evaluator>,
}

impl PassContext<'_> {
    /// The model's opset for the default domain.
    pub fn onnx_opset(&self) -> i64 {
        self.opsets
            .get("")
            .or_else(|| self.opsets.get("ai.onnx"))
            .copied()
            .unwrap_or(1)
    }
}

/// A graph transformation.
pub trait Pass: Send + Sync {
    fn name(&self) -> &str;
    /// The lowest level at which this pass runs.
    fn level(&self) -> Level;
    /// Rewrites `graph`; returns how many changes it made (0 = nothing to do).
    fn run(&self, graph: &mut Graph, ctx: &PassContext<'_>) -> Result<usize, String>;
}

/// One pass's effect, for `ort optimize` style reports.
#[derive(Clone, Debug)]
pub struct PassReport {
    pub pass: String,
    pub changes: usize,
    /// Nodes removed (negative: added) by this pass, over all its runs and graphs.
    pub nodes_removed: i64,
}

/// The most rounds of all passes over one graph. Passes that undo each
/// other's changes would otherwise never stop; hitting it is logged.
pub const MAX_ROUNDS: usize = 8;

/// A pass that failed, and on which graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("pass {pass} on graph '{graph}': {message}")]
pub struct PassError {
    pub pass: String,
    pub graph: String,
    pub message: String,
}

/// Runs passes up to a level, repeating until nothing changes.
pub struct PassManager {
    passes: Vec<Box<dyn Pass>>,
}

impl Default for PassManager {
    fn default() -> Self {
        let mut passes: Vec<Box<dyn Pass>> = Vec::new();
        passes.extend(basic::passes());
        passes.extend(fuse::passes());
        passes.push(Box::new(DeadCode));
        PassManager { passes }
    }
}

impl PassManager {
    /// The built-in passes.
    pub fn new() -> PassManager {
        PassManager::default()
    }
    /// Adds a user pass (runs after the built-in ones of its level).
    pub fn register(&mut self, pass: Box<dyn Pass>) {
        self.passes.push(pass);
    }
    /// The passes, in the order they run.
    pub fn passes(&self) -> impl Iterator<Item = &dyn Pass> {
        self.passes.iter().map(|p| p.as_ref())
    }

    /// Optimizes `graph` (and its subgraphs) at `level`. `eval` enables constant
    /// folding.
    pub fn run(
        &self,
        graph: &mut Graph,
        opsets: &BTreeMap<String, i64>,
        level: Level,
        eval: Option<&dyn Evaluator>,
    ) -> Result<Vec<PassReport>, PassError> {
        let mut reports: Vec<PassReport> = Vec::new();
        if level == Level::Disable {
            return Ok(reports);
        }
        self.run_graph(graph, opsets, level, eval, true, &mut reports)?;
        Ok(reports)
    }

    fn run_graph(
        &self,
        graph: &mut Graph,
        opsets: &BTreeMap<String, i64>,
        level: Level,
        eval: Option<&dyn Evaluator>,
        is_main: bool,
        reports: &mut Vec<PassReport>,
    ) -> Result<(), PassError> {
        for n in &mut graph.nodes {
            for a in &mut n.attrs {
                match &mut a.value {
                    ort_graph::AttrValue::Graph(sg) => {
                        self.run_graph(sg, opsets, level, eval, false, reports)?
                    }
                    ort_graph::AttrValue::Graphs(gs) => {
                        for sg in gs {
                            self.run_graph(sg, opsets, level, eval, false, reports)?
                        }
                    }
                    _ => {}
                }
            }
        }
        let ctx = PassContext {
            opsets,
            is_main,
            eval,
        };
        for round in 1..=MAX_ROUNDS {
            let mut changed = 0;
            for p in self.passes.iter().filter(|p| p.level() <= level) {
                let before = graph.node_count_deep() as i64;
                let n = p.run(graph, &ctx).map_err(|message| PassError {
                    pass: p.name().to_string(),
                    graph: graph.name.clone(),
                    message,
                })?;
                if n > 0 {
                    let removed = before - graph.node_count_deep() as i64;
                    tracing::debug!(pass = p.name(), changes = n, removed, "optimizer pass");
                    match reports.iter_mut().find(|r| r.pass == p.name()) {
                        Some(r) => {
                            r.changes += n;
                            r.nodes_removed += removed;
                        }
                        None => reports.push(PassReport {
                            pass: p.name().to_string(),
                            changes: n,
                            nodes_removed: removed,
                        }),
                    }
                }
                changed += n;
            }
            if changed == 0 {
                break;
            }
            if round == MAX_ROUNDS {
                tracing::warn!(
                    graph = graph.name,
                    changes = changed,
                    "the optimizer stopped after {MAX_ROUNDS} rounds with passes still changing the graph"
                );
            }
        }
        Ok(())
    }
}

/// Runs `pass` once on `g` at default-domain opset `opset`, without an evaluator:
/// what the passes' unit tests share.
#[cfg(test)]
pub(crate) fn run_pass(pass: &dyn Pass, g: &mut Graph, opset: i64) -> usize {
    let opsets: BTreeMap<String, i64> = [(String::new(), opset)].into();
    let ctx = PassContext {
        opsets: &opsets,
        is_main: true,
        eval: None,
    };
    pass.run(g, &ctx).expect("the pass runs")
}
