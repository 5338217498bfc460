//! Provider loading: version refusal, panics at the boundary, missing providers.

use std::process::Command;

use ndarray::ArrayD;
use ort_runtime::{array, value, Level, Session};
use ort_tests::*;
use prost::Message;

fn write_model(m: &ort_graph::proto::ModelProto, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ort-tests-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("model.onnx");
    std::fs::write(&p, m.encode_to_vec()).unwrap();
    p
}

#[test]
fn incompatible_abi_is_refused_naming_both_versions() {
    let path = test_plugins_dir().join("libort_provider_abi_mismatch.so");
    let err = ort_core::host::ProviderLibrary::load(&path)
        .err()
        .expect("must be refused");
    let host = ort_core::ABI_VERSION;
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(
        err.contains(&format!("ABI {}.0", host.major + 1)),
        "names the plugin's version: {err}"
    );
    assert!(
        err.contains(&format!("ABI {host}")),
        "names the host's version: {err}"
    );

    // The host goes on with the others: the refused library sits beside a good one.
    let s = Session::builder()
        .provider_dir(test_plugins_dir())
        .provider_dir(providers_dir())
        .providers(&["cpu"])
        .load(write_model(&mlp(), "abi"))
        .unwrap();
    assert_eq!(s.provider_names(), vec!["cpu"]);
    assert!(
        s.warnings()
            .iter()
            .any(|w| w.contains("incompatible ABI version")),
        "{:?}",
        s.warnings()
    );
}

#[test]
fn a_panicking_provider_fails_the_run_not_the_process() {
    // Unoptimized, so the Relu the faulty provider claims is not fused away.
    let s = Session::builder()
        .optimization_level(Level::Disable)
        .provider_dir(test_plugins_dir())
        .provider_dir(providers_dir())
        .providers(&["faulty", "cpu"])
        .load(write_model(&mlp(), "panic"))
        .unwrap();
    assert!(s
        .explain()
        .nodes
        .iter()
        .any(|n| n.op == "Relu" && n.provider == "faulty"));
    // With this input the Relu input's first element is -6.2 (column 0 of w sums to -0.6).
    let bad = ArrayD::from_elem(vec![4, 8], 10.0f32);
    let err = s.run(&[("x", value(bad))], &[]).unwrap_err().to_string();
    assert!(
        err.contains("panicked") && err.contains("deliberate test panic"),
        "{err}"
    );
    // The next run works, and agrees with the CPU provider alone.
    let good = ArrayD::from_shape_fn(vec![4, 8], |d| -1.0 - (d[0] * 8 + d[1]) as f32 / 10.0);
    let y = array::<f32>(&s.run(&[("x", value(good.clone()))], &[]).unwrap()[0]).unwrap();
    let cpu = Session::builder()
        .providers(&["cpu"])
        .provider_dir(providers_dir())
        .load(write_model(&mlp(), "panic-cpu"))
        .unwrap();
    let want = array::<f32>(&cpu.run(&[("x", value(good))], &[]).unwrap()[0]).unwrap();
    assert_eq!(y, want);
}

#[test]
fn no_cpu_provider_is_a_clear_error() {
    // A copy of the CLI in a folder with no providers/ beside it.
    let dir = std::env::temp_dir().join(format!("ort-tests-{}-noprov", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("ort");
    std::fs::copy(target_dir().join("ort"), &exe).unwrap();
    let model = write_model(&mlp(), "noprov");
    let out = Command::new(&exe)
        .args([
            "run",
            model.to_str().unwrap(),
            "--input-dir",
            dir.to_str().unwrap(),
            "--output-dir",
            dir.join("out").to_str().unwrap(),
        ])
        .env("ORT_PROVIDER_PATH", dir.join("nothing-here"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no CPU provider found"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one-line reason: {stderr}");

    let out = Command::new(&exe)
        .arg("providers")
        .env("ORT_PROVIDER_PATH", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no provider libraries found"));
}

#[test]
fn requested_provider_that_cannot_start_is_reported() {
    let s = Session::builder()
        .provider_dir(providers_dir())
        // No such provider library exists.
        .providers(&["acme", "cpu"])
        .load(write_model(&mlp(), "loud"))
        .unwrap();
    assert_eq!(s.provider_names(), vec!["cpu"]);
    assert!(
        s.warnings()
            .iter()
            .any(|w| w.contains("'acme'") && w.contains("cannot start")),
        "{:?}",
        s.warnings()
    );
}

/// The CUDA provider ships everywhere; where the machine cannot run it (no
/// NVIDIA driver, no device, no NVRTC or cuBLAS) it says why, and sessions go
/// on with the others.
#[test]
fn cuda_that_cannot_run_is_listed_unavailable_with_the_reason() {
    let out = Command::new(target_dir().join("ort"))
        .arg("providers")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("cuda\t"))
        .unwrap_or_else(|| panic!("cuda is listed: {stdout}"));
    if line.contains("\tavailable") {
        return; // a CUDA machine: `cargo xtask gpu-test` covers it
    }
    let why = line.split("unavailable: ").nth(1).unwrap_or("");
    let named = ["libcuda", "cuInit", "driver", "libnvrtc", "libcublas"];
    assert!(named.iter().any(|n| why.contains(n)), "{line}");
    assert!(!why.contains("panicked"), "{line}");

    let s = Session::builder()
        .provider_dir(providers_dir())
        .providers(&["cuda", "cpu"])
        .load(write_model(&mlp(), "cuda"))
        .unwrap();
    assert_eq!(s.provider_names(), vec!["cpu"]);
    assert!(
        s.warnings().iter().any(|w| w.contains("'cuda'")),
        "{:?}",
        s.warnings()
    );
}
