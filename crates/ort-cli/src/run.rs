//! `ort run MODEL --input-dir DIR --output-dir OUT [...] [--profile FILE] [--explain]`.

use std::path::PathBuf;

use clap::Args;

use crate::data::{read_inputs, write_outputs};
use crate::SessionArgs;

#[derive(Args)]
pub struct RunArgs {
    pub model: PathBuf,
    #[arg(long)]
    pub input_dir: PathBuf,
    #[arg(long)]
    pub output_dir: PathBuf,
    #[command(flatten)]
    pub session: SessionArgs,
    /// Write a Chrome-trace profile (opens in Perfetto).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Print which provider took each node and why others declined.
    #[arg(long)]
    pub explain: bool,
}

pub fn main(a: RunArgs) -> Result<i32, String> {
    let mut b = a.session.builder()?;
    if let Some(p) = &a.profile {
        b = b.profiling(p);
    }
    let session = b.load(&a.model).map_err(|e| e.to_string())?;
    for w in session.warnings() {
        eprintln!("warning: {w}");
    }
    if a.explain {
        print_explain(&session);
    }
    let inputs = read_inputs(&a.input_dir, session.inputs())?;
    let outputs = session.run_positional(inputs).map_err(|e| e.to_string())?;
    write_outputs(&a.output_dir, session.outputs(), &outputs)?;
    if let Some(p) = session.end_profiling() {
        eprintln!("profile written to {}", p.display());
    }
    Ok(0)
}

pub fn print_explain(s: &ort_runtime::Session) {
    let e = s.explain();
    let mut names: Vec<&str> = s.provider_names();
    if e.counts.contains_key("host") {
        names.push("host");
    }
    for name in names {
        let (n, k) = e.counts.get(name).copied().unwrap_or((0, 0));
        println!("provider {name}: {n} nodes in {k} partitions");
    }
    for n in &e.nodes {
        let graph = if n.graph.is_empty() {
            String::new()
        } else {
            format!("{}/", n.graph)
        };
        println!("  {graph}{} ({}) -> {}", n.node, n.op, n.provider);
        for (p, why) in &n.declined {
            println!("      declined by {p}: {why}");
        }
    }
}
