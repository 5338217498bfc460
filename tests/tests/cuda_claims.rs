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
