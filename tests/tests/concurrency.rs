//! Many threads running one session: every output identical to a single-threaded run.

use std::sync::Arc;

use ort_runtime::{Session, Value};
use ort_tests::*;

fn check(model_dir: std::path::PathBuf, runs: usize) {
    let session = Arc::new(
        Session::builder()
            .provider_dir(providers_dir())
            .threads(2)
            .load(model_dir.join("model.onnx"))
            .unwrap(),
    );
    let set = model_dir.join("test_data_set_0");
    let inputs: Vec<Option<Value>> = session
        .inputs()
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let p = set.join(format!("input_{k}.pb"));
            p.exists().then(|| {
                ort_graph::value_io::decode_value(&std::fs::read(&p).unwrap(), &d.ty).unwrap()
            })
        })
        .collect();
    let reference: Vec<Vec<u8>> = bytes_of(&session.run_positional(inputs.clone()).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (s, ins, want) = (session.clone(), inputs.clone(), reference.clone());
            std::thread::spawn(move || {
                for i in 0..runs {
                    let got = bytes_of(&s.run_positional(ins.clone()).unwrap());
                    assert_eq!(got, want, "run {i} differs");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn bytes_of(vs: &[Value]) -> Vec<Vec<u8>> {
    vs.iter()
        .map(|v| {
            v.as_tensor()
                .and_then(|t| t.bytes())
                .map(|b| b.to_vec())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn eight_threads_control_flow_model() {
    check(shared().join("models").join("control_flow"), 100);
}

#[test]
fn eight_threads_cnn() {
    check(shared().join("models").join("squeezenet1_1"), 100);
}
