//! A user's own graph pass, registered with the session builder, runs with the
//! built-in ones and shows in the optimizer report.

use ndarray::{ArrayD, IxDyn};
use ort_graph::{Graph, Node};
use ort_runtime::{array, value, ErrorKind, Level, Pass, PassContext, Session};
use ort_tests::*;
use prost::Message;

/// Rewrites `Mul(x, x)` into `Pow(x, 2)`: a toy strength change whose effect is
/// visible in where the nodes ran.
struct SquareToPow;

impl Pass for SquareToPow {
    fn name(&self) -> &str {
        "user-square-to-pow"
    }
    fn level(&self) -> Level {
        Level::Basic
    }
    fn run(&self, g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        let mut changes = 0;
        let two = "user_two".to_string();
        for i in 0..g.nodes.len() {
            let n = &g.nodes[i];
            if n.op_type == "Mul" && n.domain.is_empty() && n.inputs[0] == n.inputs[1] {
                let x = n.inputs[0].clone();
                g.nodes[i] = Node {
                    op_type: "Pow".into(),
                    inputs: vec![x, two.clone()],
                    ..n.clone()
                };
                changes += 1;
            }
        }
        if changes > 0 && g.initializer(&two).is_none() {
            g.initializers
                .push((two, ort_runtime::Tensor::scalar(2.0f32)));
        }
        Ok(changes)
    }
}

fn square_model(tag: &str) -> std::path::PathBuf {
    let m = model(
        vec![
            node("Mul", &["x", "x"], &["sq"]),
            node("Neg", &["sq"], &["y"]),
        ],
        vec![float_info("x", &[2, 3])],
        vec![float_info("y", &[2, 3])],
        vec![],
    );
    let dir = std::env::temp_dir().join(format!("ort-tests-{}-userpass-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("model.onnx");
    std::fs::write(&p, m.encode_to_vec()).unwrap();
    p
}

fn run(level: Level, with_pass: bool) -> (Session, Vec<f32>) {
    let mut b = Session::builder()
        .provider_dir(providers_dir())
        .optimization_level(level);
    if with_pass {
        b = b.with_pass(Box::new(SquareToPow));
    }
    let s = b.load(square_model(&format!("{level:?}"))).unwrap();
    let x =
        ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![-1.5f32, 0.0, 0.5, 2.0, 3.0, -4.0]).unwrap();
    let out = s.run(&[("x", value(x))], &[]).unwrap();
    let y = array::<f32>(&out[0]).unwrap().iter().copied().collect();
    (s, y)
}

#[test]
fn a_registered_pass_runs_and_is_reported() {
    let (s, y) = run(Level::All, true);
    assert_eq!(y, vec![-2.25, -0.0, -0.25, -4.0, -9.0, -16.0]);
    let r = s
        .optimizer_report()
        .iter()
        .find(|r| r.pass == "user-square-to-pow")
        .expect("the user pass is reported");
    assert_eq!(r.changes, 1);
    let ops: Vec<&str> = s.explain().nodes.iter().map(|n| n.op.as_str()).collect();
    assert!(ops.contains(&"Pow") && !ops.contains(&"Mul"), "{ops:?}");
}

#[test]
fn no_pass_runs_at_level_disable() {
    let (s, y) = run(Level::Disable, true);
    assert_eq!(y, vec![-2.25, -0.0, -0.25, -4.0, -9.0, -16.0]);
    assert!(s.optimizer_report().is_empty());
    let ops: Vec<&str> = s.explain().nodes.iter().map(|n| n.op.as_str()).collect();
    assert!(ops.contains(&"Mul"), "{ops:?}");
}

/// A pass that refuses every graph.
struct Refuses;

impl Pass for Refuses {
    fn name(&self) -> &str {
        "user-refuses"
    }
    fn level(&self) -> Level {
        Level::Basic
    }
    fn run(&self, _g: &mut Graph, _ctx: &PassContext<'_>) -> Result<usize, String> {
        Err("this graph is not for me".into())
    }
}

#[test]
fn a_failing_pass_is_an_optimizer_error_naming_the_pass_and_file() {
    let path = square_model("refuses");
    let err = Session::builder()
        .provider_dir(providers_dir())
        .with_pass(Box::new(Refuses))
        .load(&path)
        .err()
        .expect("the pass fails the load");
    assert_eq!(err.kind(), ErrorKind::Optimize);
    assert_eq!(err.context().pass.as_deref(), Some("user-refuses"));
    assert_eq!(err.message(), "on graph 'g': this graph is not for me");
    let text = err.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(text.contains("optimizer pass user-refuses"), "{text}");
}
