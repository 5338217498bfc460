//! Type and shape inference against the ONNX node suite: every case declares its
//! outputs' types and shapes (written by onnx from the reference outputs), so they
//! are an independent check. Each output's declared type is erased, inference runs,
//! and what it infers must agree with the declaration: same element type, same rank,
//! same value for every dimension it claims to know. Coverage (how many outputs get
//! an element type, how many a full shape) must not fall below the checked-in floor.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use ort_core::{Dim, TypeInfo};

/// Outputs whose element type inference must find, and whose full shape it must find.
/// Raise these when inference learns more; they only grow.
const MIN_TYPED: usize = 2305;
const MIN_SHAPED: usize = 1862;

fn suite() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/onnx-tests/node")
}

enum Found {
    Nothing,
    Type,
    Full,
}

fn check(inferred: &TypeInfo, declared: &TypeInfo) -> Result<Found, String> {
    match (inferred, declared) {
        (TypeInfo::Unknown, _) => Ok(Found::Nothing),
        (TypeInfo::Tensor { elem, .. }, TypeInfo::Tensor { elem: d, .. }) => {
            if elem != d {
                return Err(format!("element type {elem}, declared {d}"));
            }
            let (Some(s), Some(ds)) = (inferred.shape(), declared.shape()) else {
                return Ok(Found::Type);
            };
            if s.len() != ds.len() {
                return Err(format!("rank {}, declared {}", s.len(), ds.len()));
            }
            let mut full = true;
            for (a, b) in s.iter().zip(ds) {
                match (a, b) {
                    (Dim::Known(x), Dim::Known(y)) if x != y => {
                        return Err(format!("shape {inferred}, declared {declared}"))
                    }
                    (Dim::Known(_), _) => {}
                    _ => full = false,
                }
            }
            Ok(if full { Found::Full } else { Found::Type })
        }
        (TypeInfo::Sequence(a), TypeInfo::Sequence(b))
        | (TypeInfo::Optional(a), TypeInfo::Optional(b)) => match check(a, b)? {
            Found::Nothing => Ok(Found::Type),
            f => Ok(f),
        },
        (TypeInfo::Map { .. }, TypeInfo::Map { .. }) => Ok(Found::Full),
        _ => Err(format!("kind {inferred}, declared {declared}")),
    }
}

#[test]
fn inference_agrees_with_the_node_suite() {
    let dir = suite();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("node suite at {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() > 1800, "node suite incomplete");
    let (mut total, mut typed, mut shaped) = (0, 0, 0);
    let mut wrong = Vec::new();
    let mut untyped: HashMap<String, usize> = HashMap::new();
    let mut partial: HashMap<String, usize> = HashMap::new();
    for case in &cases {
        let Ok(mut model) = ort_graph::load(&case.join("model.onnx")) else {
            continue;
        };
        let g = &mut model.graph;
        let produced: HashSet<String> = g.nodes.iter().flat_map(|n| n.outputs.clone()).collect();
        g.types.retain(|k, _| !produced.contains(k));
        if let Err(e) = ort_graph::infer::try_graph(g, &model.opsets, &HashMap::new()) {
            wrong.push(format!("{}: {e}", case.display()));
            continue;
        }
        for out in g.outputs.iter().filter(|o| produced.contains(&o.name)) {
            total += 1;
            let got = g.types.get(&out.name).cloned().unwrap_or(TypeInfo::Unknown);
            let op = g
                .nodes
                .iter()
                .find(|n| n.outputs.contains(&out.name))
                .map_or("?".into(), |n| n.op_type.clone());
            match check(&got, &out.ty) {
                Ok(Found::Nothing) => *untyped.entry(op).or_default() += 1,
                Ok(Found::Type) => {
                    typed += 1;
                    *partial.entry(op).or_default() += 1;
                }
                Ok(Found::Full) => {
                    typed += 1;
                    shaped += 1;
                }
                Err(e) => wrong.push(format!("{} output {}: {e}", case.display(), out.name)),
            }
        }
    }
    let by_count = |m: HashMap<String, usize>| {
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    println!("{total} outputs: {typed} typed, {shaped} fully shaped");
    println!("untyped by op: {:?}", by_count(untyped));
    println!("shape not fully inferred by op: {:?}", by_count(partial));
    assert!(
        wrong.is_empty(),
        "{} wrong inferences:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        typed >= MIN_TYPED && shaped >= MIN_SHAPED,
        "coverage fell: {typed} typed (floor {MIN_TYPED}), {shaped} shaped (floor {MIN_SHAPED})"
    );
}
