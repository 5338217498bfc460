//! scratch
use ort_runtime::{Level, Session};
use ort_tests::*;

#[test]
#[ignore]
fn dump_types() {
    for m in ["bert_small", "gpt2_small"] {
        let model = ort_graph::load(&shared().join("models").join(m).join("model.onnx")).unwrap();
        let (model, rep) = Session::builder()
            .optimization_level(Level::Basic)
            .provider_dir(providers_dir())
            .optimize(model)
            .unwrap();
        println!("{m}: {rep:?}");
        let g = &model.graph;
        for n in &g.nodes {
            if n.name.contains("layer.0/attention/self") || n.name.contains("h.0/attn/") {
                let ty: Vec<String> = n.inputs.iter().chain(n.outputs.iter()).map(|v| format!("{v}:{:?}", g.types.get(v))).collect();
                println!("{} {} {:?}", n.op_type, n.name, ty);
            }
        }
    }
}
