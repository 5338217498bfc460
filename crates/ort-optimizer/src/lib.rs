//! # ort-optimizer: graph transformations
//!
//! A [`Pass`] rewrites a [`Graph`] in place and says what it changed. The
//! [`PassManager`] runs the passes of the chosen [`Level`] (and any the user
//! registered) to a fixed point. Levels follow ONNX Runtime: `disable`, `basic`
//! (provider-independent cleanups), `extended` (fusions), `all` (adds layout).
//! This crate holds the framework and the dead-code pass; the rest of the passes
//! are added level by level.

mod dead_code;

use ort_graph::Graph;
use std::collections::BTreeMap;

pub use dead_code::DeadCode;

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
    /// True for the main graph, whose outputs are fixed; false inside subgraphs.
    pub is_main: bool,
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
}

/// Runs passes up to a level, repeating until nothing changes.
pub struct PassManager {
    passes: Vec<Box<dyn Pass>>,
}

impl Default for PassManager {
    fn default() -> Self {
        PassManager {
            passes: vec![Box::new(DeadCode)],
        }
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
    /// Optimizes `graph` at `level`.
    pub fn run(
        &self,
        graph: &mut Graph,
        opsets: &BTreeMap<String, i64>,
        level: Level,
    ) -> Result<Vec<PassReport>, String> {
        let mut reports: Vec<PassReport> = Vec::new();
        if level == Level::Disable {
            return Ok(reports);
        }
        let ctx = PassContext {
            opsets,
            is_main: true,
        };
        for _round in 0..8 {
            let mut changed = 0;
            for p in self.passes.iter().filter(|p| p.level() <= level) {
                let n = p
                    .run(graph, &ctx)
                    .map_err(|e| format!("pass {}: {e}", p.name()))?;
                if n > 0 {
                    tracing::debug!(pass = p.name(), changes = n, "optimizer pass");
                    match reports.iter_mut().find(|r| r.pass == p.name()) {
                        Some(r) => r.changes += n,
                        None => reports.push(PassReport {
                            pass: p.name().to_string(),
                            changes: n,
                        }),
                    }
                }
                changed += n;
            }
            if changed == 0 {
                break;
            }
        }
        Ok(reports)
    }
}
