//! `ort optimize MODEL.onnx -o OUT.onnx [--level …]`: runs the optimizer only and
//! writes the result as an ONNX file (fused ops in the `ai.ort_rs.fused` domain,
//! with its opset import), printing what each pass changed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use ort_runtime::model::Graph;

use crate::SessionArgs;

#[derive(Args)]
pub struct OptimizeArgs {
    pub model: PathBuf,
    /// Where to write the optimized model.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    #[command(flatten)]
    pub session: SessionArgs,
}

pub fn main(a: OptimizeArgs) -> Result<i32, String> {
    let model = ort_runtime::model::load(&a.model).map_err(|e| e.to_string())?;
    let before = model.graph.node_count_deep();
    let (model, reports) = a
        .session
        .builder()?
        .optimize(model)
        .map_err(|e| e.to_string())?;
    println!("{}: level {:?}", a.model.display(), a.session.level);
    for r in &reports {
        println!(
            "  {:<24} {:>5} changes, {:>+5} nodes",
            r.pass, r.changes, -r.nodes_removed
        );
    }
    println!("  nodes: {before} -> {}", model.graph.node_count_deep());
    let mut ops: BTreeMap<String, usize> = BTreeMap::new();
    count_ops(&model.graph, &mut ops);
    let list: Vec<String> = ops.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  ops: {}", list.join(", "));
    ort_runtime::model::save(&model, &a.output).map_err(|e| e.to_string())?;
    println!("  wrote {}", a.output.display());
    Ok(0)
}

/// Op counts, fused-domain ops prefixed with their domain, subgraphs included.
fn count_ops(g: &Graph, ops: &mut BTreeMap<String, usize>) {
    for n in &g.nodes {
        let key = if n.domain.is_empty() {
            n.op_type.clone()
        } else {
            format!("{}:{}", n.domain, n.op_type)
        };
        *ops.entry(key).or_default() += 1;
        for sg in n.subgraphs() {
            count_ops(sg, ops);
        }
    }
}
