//! What the CUDA provider takes of each shared model, decided without a GPU:
//! its per-node claim (what GetCapability groups) is a function of the graph
//! view alone. At level `all`, every node of the CNNs and the transformers
//! whose outputs are all float tensors must be claimed; what is left to the CPU
//! is the integer shape arithmetic. The counts are printed.

use ort_core::ElemType;
use ort_runtime::{Level, Session};
use ort_tests::*;

const FLOATS: [ElemType; 3] = [ElemType::F32, ElemType::F16, ElemType::BF16];

#[test]
fn every_float_node_of_the_cnns_and_transformers_is_claimed() {
    let models = [
        "resnet18",
        "squeezenet1_1",
        "mobilenet_v3_small",
        "bert_small",
        "gpt2_small",
    ];
    for model in models {
        let path = shared().join("models").join(model).join("model.onnx");
        if !path.exists() {
            eprintln!("skipping {model}: {} not found", path.display());
            continue;
        }
        let m = ort_graph::load(&path).unwrap();
        let (m, _) = Session::builder()
            .provider_dir(providers_dir())
            .providers(&["cpu"])
            .optimization_level(Level::All)
            .optimize(m)
            .unwrap();
        let assigned = vec![String::new(); m.graph.nodes.len()];
        let view = ort_graph::view::graph_view(&m.graph, &m.opsets, &assigned, &[]);
        let (mut claimed, mut wrong) = (0, Vec::new());
        for node in view.nodes.iter() {
            let float = node
                .outputs
                .iter()
                .all(|o| o.is_empty() || view.elem_of(o).is_some_and(|e| FLOATS.contains(&e)));
            match ort_provider_cuda::ops::claim(node, &view) {
                Ok(_) => claimed += 1,
                Err(why) if float => wrong.push(format!("{}: {why}", node.describe())),
                Err(_) => {}
            }
        }
        eprintln!(
            "{model}: CUDA claims {claimed} of {} nodes",
            view.nodes.len()
        );
        assert!(
            wrong.is_empty(),
            "{model}: float nodes declined:\n{}",
            wrong.join("\n")
        );
    }
}

/// Every node of the ONNX node suite that the CUDA provider claims (as
/// GetCapability would, unoptimized as the device suite runs it) goes through
/// the checks its compile and run make before launching anything: the claim,
/// then each step's shape function on the case's real input shapes and
/// integers. The shape must be the reference output's, read from the case's
/// `output_K.pb`. A claim that a compile or run would refuse fails here.
#[test]
fn every_claimed_node_of_the_node_suite_passes_the_compile_checks() {
    use ort_core::kit::Ints;
    use std::collections::HashMap;
    let suite = shared().join("onnx-tests").join("node");
    let Ok(dirs) = std::fs::read_dir(&suite) else {
        eprintln!("skipping: {} not found", suite.display());
        return;
    };
    let mut dirs: Vec<_> = dirs.flatten().map(|d| d.path()).collect();
    dirs.sort();
    let (mut claimed, mut checked, mut wrong) = (0, 0, Vec::new());
    for dir in dirs {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(m) = ort_graph::load(&dir.join("model.onnx")) else {
            continue; // cases the loader rejects are the CPU's concern
        };
        let data = dir.join("test_data_set_0");
        // The real values of the graph inputs and outputs, by name.
        let mut real: HashMap<String, ort_core::Tensor> = HashMap::new();
        let decls = m.graph.inputs.iter().map(|d| ("input", d));
        let outs = m.graph.outputs.iter().map(|d| ("output", d));
        for (k, (kind, d)) in decls.clone().enumerate().chain(outs.clone().enumerate()) {
            let p = data.join(format!("{kind}_{k}.pb"));
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            if let Ok(ort_core::Value::Tensor(t)) = ort_graph::value_io::decode_value(&bytes, &d.ty)
            {
                real.insert(d.name.clone(), t);
            }
        }
        let assigned = vec![String::new(); m.graph.nodes.len()];
        let view = ort_graph::view::graph_view(&m.graph, &m.opsets, &assigned, &[]);
        for node in view.nodes.iter() {
            let Ok(claim) = ort_provider_cuda::ops::claim(node, &view) else {
                continue;
            };
            claimed += 1;
            let name = |k: usize| {
                node.inputs
                    .get(k)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            };
            let shape = |k: usize| match real.get(&name(k)) {
                Some(t) => Some(t.shape().to_vec()),
                None => view.shape_of(&name(k)),
            };
            let ints = |k: usize| match (real.get(&name(k)), view.constant(&name(k))) {
                (Some(t), _) | (None, Some(t)) => Ints::from_tensor(t).ok(),
                _ => None,
            };
            let what = format!("{case}: {}", node.describe());
            match ort_provider_cuda::ops::step_shapes(&claim.steps, &shape, &ints) {
                Err(e) => wrong.push(format!("{what}: refused at run time: {}", e.message)),
                Ok(None) => {}
                Ok(Some(made)) => {
                    checked += 1;
                    for (o, &s) in node.outputs.iter().zip(&claim.outputs) {
                        let want = real
                            .get(o.as_str())
                            .map(|t| t.shape().to_vec())
                            .or_else(|| view.shape_of(o));
                        if want.as_ref().is_some_and(|w| *w != made[s]) {
                            wrong.push(format!(
                                "{what}: makes {o} of shape {:?}, the reference is {want:?}",
                                made[s]
                            ));
                        }
                    }
                }
            }
        }
    }
    eprintln!("node suite: CUDA claims {claimed} nodes, {checked} checked with known shapes");
    assert!(claimed > 0, "nothing was claimed: is the node suite there?");
    assert!(
        wrong.is_empty(),
        "{} claims a run would refuse or get wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
