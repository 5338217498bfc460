//! `ort generate MODEL_DIR --prompt-ids 1,2,3 --max-new-tokens 32`: greedy
//! decoding with a KV cache (`ort_runtime::generate`), printing the new ids and
//! tokens per second.

use std::path::PathBuf;

use clap::Args;

use crate::SessionArgs;

#[derive(Args)]
pub struct GenerateArgs {
    /// A folder with model.onnx (as onnxruntime-genai writes it), or a model file.
    pub model_dir: PathBuf,
    /// The prompt's token ids.
    #[arg(long, value_delimiter = ',', required = true)]
    pub prompt_ids: Vec<i64>,
    #[arg(long, default_value_t = 32)]
    pub max_new_tokens: usize,
    /// Stop at this id (default: `eos_token_id` of genai_config.json, when there).
    #[arg(long)]
    pub eos: Option<i64>,
    /// Print one JSON object: tokens, timings, and each step's logits with --logits.
    #[arg(long)]
    pub json: bool,
    /// With --json, include each step's logits of the last position.
    #[arg(long)]
    pub logits: bool,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// genai_config.json beside the model: the first `eos_token_id`, the key/value
/// heads and the head size.
fn config(dir: &std::path::Path) -> (Option<i64>, Option<i64>, Option<i64>) {
    let v: Option<serde_json::Value> = std::fs::read_to_string(dir.join("genai_config.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(v) = v else {
        return (None, None, None);
    };
    let e = &v["model"]["eos_token_id"];
    let eos = e.as_i64().or_else(|| e.as_array()?.first()?.as_i64());
    let dec = &v["model"]["decoder"];
    (
        eos,
        dec["num_key_value_heads"].as_i64(),
        dec["head_size"].as_i64(),
    )
}

pub fn main(a: GenerateArgs) -> Result<i32, String> {
    let (model, dir) = if a.model_dir.is_dir() {
        (a.model_dir.join("model.onnx"), a.model_dir.clone())
    } else {
        let dir = a.model_dir.parent().map(PathBuf::from).unwrap_or_default();
        (a.model_dir.clone(), dir)
    };
    let session = a
        .session
        .builder()?
        .load(&model)
        .map_err(|e| e.to_string())?;
    for w in session.warnings() {
        eprintln!("warning: {w}");
    }
    let (eos, kv_heads, head_size) = config(&dir);
    let opts = ort_runtime::generate::Options {
        max_new_tokens: a.max_new_tokens,
        eos: a.eos.or(eos),
        kv_heads,
        head_size,
    };
    let g =
        ort_runtime::generate::greedy(&session, &a.prompt_ids, &opts).map_err(|e| e.to_string())?;
    let n = g.tokens.len();
    let decode_rate = if n > 1 {
        (n - 1) as f64 / g.decode_time.as_secs_f64()
    } else {
        0.0
    };
    let total = (g.prompt_time + g.decode_time).as_secs_f64();
    if a.json {
        let mut v = serde_json::json!({
            "tokens": g.tokens,
            "prompt_ms": g.prompt_time.as_secs_f64() * 1e3,
            "decode_ms": g.decode_time.as_secs_f64() * 1e3,
            "tokens_per_second": n as f64 / total,
            "decode_tokens_per_second": decode_rate,
        });
        if a.logits {
            v["logits"] = serde_json::json!(g.logits);
        }
        println!("{v}");
    } else {
        let ids: Vec<String> = g.tokens.iter().map(|t| t.to_string()).collect();
        println!("{}", ids.join(","));
        println!(
            "{n} tokens in {:.1} ms: {:.1} tokens/s (prompt of {} tokens {:.1} ms, then {:.1} tokens/s)",
            total * 1e3,
            n as f64 / total,
            a.prompt_ids.len(),
            g.prompt_time.as_secs_f64() * 1e3,
            decode_rate
        );
    }
    Ok(0)
}
