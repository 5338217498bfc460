//! The `ort run` contract: file layout, `--explain` and `--profile`, against the
//! shared control-flow model's onnxruntime references.

use std::process::Command;

use ort_core::TypeInfo;
use ort_graph::value_io::decode_value;
use ort_tests::*;

#[test]
fn run_writes_outputs_explains_and_profiles() {
    let case = shared().join("models").join("control_flow");
    let set = case.join("test_data_set_1");
    let out = std::env::temp_dir().join(format!("ort-tests-{}-cli", std::process::id()));
    let profile = out.join("trace.json");
    std::fs::create_dir_all(&out).unwrap();
    let r = Command::new(target_dir().join("ort"))
        .arg("run")
        .arg(case.join("model.onnx"))
        .arg("--input-dir")
        .arg(&set)
        .arg("--output-dir")
        .arg(&out)
        .arg("--profile")
        .arg(&profile)
        .arg("--explain")
        // The assignments below are the CPU provider's, whatever else is installed.
        .args(["--providers", "cpu"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));

    // Outputs match onnxruntime's, including the early-exit loop's shorter scan output.
    for k in 0..4 {
        let got = decode_value(
            &std::fs::read(out.join(format!("output_{k}.pb"))).unwrap(),
            &TypeInfo::Unknown,
        )
        .unwrap();
        let want = decode_value(
            &std::fs::read(set.join(format!("output_{k}.pb"))).unwrap(),
            &TypeInfo::Unknown,
        )
        .unwrap();
        let (g, w) = (got.as_tensor().unwrap(), want.as_tensor().unwrap());
        assert_eq!(g.shape(), w.shape(), "output {k}");
        for (a, b) in g
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .zip(w.to_vec::<f32>().unwrap())
        {
            assert!(
                (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
                "output {k}: {a} vs {b}"
            );
        }
    }

    // --explain: a count line per provider, then one line per node with its provider.
    assert!(
        stdout.lines().any(|l| l.starts_with("provider cpu: ")
            && l.contains(" nodes in ")
            && l.ends_with(" partitions")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("provider host: ")),
        "If/Loop/Scan run in the host: {stdout}"
    );
    assert!(stdout.contains("(Loop) -> host"), "{stdout}");
    assert!(stdout.contains("(MatMul) -> cpu"), "{stdout}");

    // --profile: a Chrome trace whose events name op, node and provider.
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    let events = trace.as_array().unwrap();
    assert!(!events.is_empty());
    for e in events {
        assert_eq!(e["ph"], "X");
        assert!(
            e["args"]["op_name"].is_string()
                && e["args"]["node_name"].is_string()
                && e["args"]["provider"].is_string()
        );
    }
    assert!(events
        .iter()
        .any(|e| e["args"]["op_name"] == "Loop" && e["args"]["provider"] == "host"));
    assert!(events
        .iter()
        .any(|e| e["args"]["op_name"] == "Tanh" && e["args"]["provider"] == "cpu"));
}

#[test]
fn bench_prints_one_json_line() {
    let r = Command::new(target_dir().join("ort"))
        .args([
            "bench",
            shared().join("models").join("gru_bidir").to_str().unwrap(),
            "--threads",
            "1",
            "--warmup",
            "1",
            "--iters",
            "3",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert_eq!(stdout.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    for k in ["median_ms", "p90_ms", "min_ms"] {
        assert!(v[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {v}");
    }
    assert!(
        v["min_ms"].as_f64() <= v["median_ms"].as_f64()
            && v["median_ms"].as_f64() <= v["p90_ms"].as_f64()
    );
}
