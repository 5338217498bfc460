//! The 4-bit decoder that onnxruntime-genai's builder exports
//! (tests/genai/make.py): greedy generation through the Rust API equals
//! onnxruntime's, token for token, with every step's logits within tolerance,
//! at every optimization level and thread count.
//!
//! The tolerance is 3% of the step's largest logit: the model's MatMulNBits
//! run at accuracy level 4, which quantizes activations to int8, so a
//! float-rounding difference upstream (a softmax sum in another order) can
//! move a value across a rounding boundary and shift a logit by a whole
//! quantization step. Most steps agree within 1e-4.

use std::path::PathBuf;

use ort_runtime::generate::{greedy, Options};
use ort_runtime::{Level, Session};
use ort_tests::*;

fn case() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("genai")
        .join("tiny_llama_int4")
}

struct Expected {
    prompt: Vec<i64>,
    tokens: Vec<i64>,
    logits: Vec<Vec<f32>>,
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(case().join("expected.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ints = |k: &str| -> Vec<i64> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect()
    };
    let logits = v["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    Expected {
        prompt: ints("prompt"),
        tokens: ints("tokens"),
        logits,
    }
}

fn generate(level: Level, threads: usize) {
    let want = expected();
    let session = Session::builder()
        .provider_dir(providers_dir())
        .optimization_level(level)
        .threads(threads)
        .load(case().join("model.onnx"))
        .unwrap();
    let opts = Options {
        max_new_tokens: want.tokens.len(),
        eos: None,
        kv_heads: Some(2),
        head_size: Some(32),
    };
    let got = greedy(&session, &want.prompt, &opts).unwrap();
    assert_eq!(
        got.tokens, want.tokens,
        "level {level:?}, {threads} threads"
    );
    for (step, (g, w)) in got.logits.iter().zip(&want.logits).enumerate() {
        assert_eq!(g.len(), w.len());
        let tol = 0.03 * w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(
                (a - b).abs() <= tol,
                "level {level:?}, step {step}, logit {i}: {a} vs onnxruntime's {b}"
            );
        }
    }
}

#[test]
fn greedy_generation_equals_onnxruntimes_unoptimized() {
    generate(Level::Disable, 1);
}

#[test]
fn greedy_generation_equals_onnxruntimes_optimized_on_two_threads() {
    generate(Level::All, 2);
}

#[test]
fn a_symbolic_cache_without_its_sizes_is_a_clear_error() {
    let session = Session::builder()
        .provider_dir(providers_dir())
        .load(case().join("model.onnx"))
        .unwrap();
    let opts = Options {
        max_new_tokens: 4,
        ..Options::default()
    };
    let e = greedy(&session, &[1, 2], &opts).unwrap_err().to_string();
    assert!(e.contains("head size") || e.contains("heads"), "{e}");
}

#[test]
fn ort_generate_prints_onnxruntimes_tokens() {
    let want = expected();
    let prompt: Vec<String> = want.prompt.iter().map(|t| t.to_string()).collect();
    let r = std::process::Command::new(target_dir().join("ort"))
        .arg("generate")
        .arg(case())
        .arg("--prompt-ids")
        .arg(prompt.join(","))
        .args(["--max-new-tokens", &want.tokens.len().to_string(), "--json"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let got: Vec<i64> = v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(got, want.tokens);
    assert!(v["tokens_per_second"].as_f64().unwrap() > 0.0);
}
