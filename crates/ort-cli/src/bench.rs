//! `ort bench MODEL_DIR --threads N --warmup W --iters K [...] --json`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::data::read_inputs;
use crate::SessionArgs;

#[derive(Args)]
pub struct BenchArgs {
    /// A case folder (model.onnx + test_data_set_0/) or a model file.
    pub model_dir: PathBuf,
    #[command(flatten)]
    pub session: SessionArgs,
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    #[arg(long, default_value_t = 20)]
    pub iters: usize,
    /// Print one JSON line (median_ms, p90_ms, min_ms, ...).
    #[arg(long)]
    pub json: bool,
    /// Write a Chrome-trace profile of every run, warm-up included (the
    /// steady state, where `ort run --profile` shows the first run).
    #[arg(long)]
    pub profile: Option<PathBuf>,
}

pub fn main(a: BenchArgs) -> Result<i32, String> {
    let (model, data) = if a.model_dir.is_dir() {
        (
            a.model_dir.join("model.onnx"),
            a.model_dir.join("test_data_set_0"),
        )
    } else {
        (
            a.model_dir.clone(),
            a.model_dir.with_file_name("test_data_set_0"),
        )
    };
    let session = a.session.builder()?;
    let session = match &a.profile {
        Some(p) => session.profiling(p),
        None => session,
    }
    .load(&model)
    .map_err(|e| e.to_string())?;
    for w in session.warnings() {
        eprintln!("warning: {w}");
    }
    let inputs = read_inputs(&data, session.inputs())?;
    for _ in 0..a.warmup {
        session
            .run_positional(inputs.clone())
            .map_err(|e| e.to_string())?;
    }
    let mut times: Vec<f64> = Vec::with_capacity(a.iters);
    for _ in 0..a.iters.max(1) {
        let t = Instant::now();
        session
            .run_positional(inputs.clone())
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    if let Some(p) = session.end_profiling() {
        eprintln!("profile written to {}", p.display());
    }
    times.sort_by(|x, y| x.total_cmp(y));
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let (median, p90, min) = (pick(0.5), pick(0.9), times[0]);
    if a.json {
        let v = serde_json::json!({
            "model": model.display().to_string(),
            "median_ms": median, "p90_ms": p90, "min_ms": min,
            "iters": times.len(), "threads": a.session.threads,
            "providers": session.provider_names(),
        });
        println!("{v}");
    } else {
        println!(
            "{}: median {median:.3} ms, p90 {p90:.3} ms, min {min:.3} ms over {} runs",
            model.display(),
            times.len()
        );
    }
    Ok(0)
}
