//! Type and shape inference, keeping symbolic dims. Declared types win; inference
//! fills in what the file leaves out, so the graph view a provider sees has types
//! and shapes wherever they are knowable. Type conflicts between inputs that an op
//! requires to agree are errors.

use std::collections::{BTreeMap, HashMap};

use ort_core::{Dim, ElemType, Tensor, TypeInfo};

use crate::ir::{AttrValue, Graph, Node};

type Shape = Option<Vec<Dim>>;

/// Infers types for every node output of `g` and its subgraphs.
pub fn graph(g: &mut Graph, opsets: &BTreeMap<String, i64>, outer: &HashMap<String, TypeInfo>) {
    let _ = try_graph(g, opsets, outer);
}

/// As [`graph`], but reports the first type conflict.
pub fn try_graph(
    g: &mut Graph,
    opsets: &BTreeMap<String, i64>,
    outer: &HashMap<String, TypeInfo>,
) -> Result<(), String> {
    let mut consts: HashMap<String, Tensor> = g.initializers.iter().cloned().collect();
    let mut first_err = None;
    for i in 0..g.nodes.len() {
        // Subgraphs see every type known so far.
        let mut visible = outer.clone();
        visible.extend(g.types.iter().map(|(k, v)| (k.clone(), v.clone())));
        let node = &mut g.nodes[i];
        for a in &mut node.attrs {
            match &mut a.value {
                AttrValue::Graph(sg) => graph(sg, opsets, &visible),
                AttrValue::Graphs(gs) => gs.iter_mut().for_each(|sg| graph(sg, opsets, &visible)),
                _ => {}
            }
        }
        let node = &g.nodes[i];
        let opset = opsets.get(&node.domain).copied().unwrap_or(0);
        let lookup = |name: &str| -> TypeInfo {
            if name.is_empty() {
                return TypeInfo::Unknown;
            }
            g.types
                .get(name)
                .or_else(|| outer.get(name))
                .cloned()
                .unwrap_or(TypeInfo::Unknown)
        };
        let ins: Vec<TypeInfo> = node.inputs.iter().map(|n| lookup(n)).collect();
        let cins: Vec<Option<&Tensor>> = node.inputs.iter().map(|n| consts.get(n)).collect();
        match node_types(node, opset, &ins, &cins) {
            Ok(outs) => {
                for (name, t) in node.outputs.iter().zip(outs) {
                    if name.is_empty() || matches!(t, TypeInfo::Unknown) {
                        continue;
                    }
                    let e = g.types.entry(name.clone()).or_insert(TypeInfo::Unknown);
                    *e = merge(e, &t);
                }
            }
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(format!("{}: {e}", node.describe()));
                }
            }
        }
        if node.op_type == "Constant" && node.domain.is_empty() {
            if let Some(AttrValue::Tensor(t)) = node.attr("value") {
                consts.insert(node.outputs[0].clone(), t.clone());
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Declared information wins; inferred fills the gaps (unknown rank or dims).
fn merge(declared: &TypeInfo, inferred: &TypeInfo) -> TypeInfo {
    match (declared, inferred) {
        (TypeInfo::Unknown, t) => t.clone(),
        (
            TypeInfo::Tensor { elem, shape },
            TypeInfo::Tensor {
                elem: e2,
                shape: s2,
            },
        ) => {
            let elem = if *elem == ElemType::Undefined {
                *e2
            } else {
                *elem
            };
            let shape = match (shape.as_ref().into_option(), s2.as_ref().into_option()) {
                (None, s) => s.map(|s| s.to_vec()),
                (Some(d), Some(i)) if d.len() == i.len() => Some(
                    d.iter()
                        .zip(i.iter())
                        .map(|(a, b)| {
                            if matches!(a, Dim::Unknown) {
                                b.clone()
                            } else {
                                a.clone()
                            }
                        })
                        .collect(),
                ),
                (Some(d), _) => Some(d.to_vec()),
            };
            TypeInfo::tensor(elem, shape)
        }
        (d, _) => d.clone(),
    }
}

fn elem(t: &TypeInfo) -> Option<ElemType> {
    t.elem().filter(|e| *e != ElemType::Undefined)
}

fn shape(t: &TypeInfo) -> Shape {
    t.shape().map(|s| s.to_vec())
}

fn tensor(e: Option<ElemType>, s: Shape) -> TypeInfo {
    match e {
        Some(e) => TypeInfo::tensor(e, s),
        None => TypeInfo::Unknown,
    }
}

fn known(dims: &[i64]) -> Vec<Dim> {
    dims.iter().map(|&d| Dim::Known(d)).collect()
}

fn bcast_dim(a: &Dim, b: &Dim) -> Result<Dim, String> {
    Ok(match (a, b) {
        (Dim::Known(1), x) | (x, Dim::Known(1)) => x.clone(),
        (Dim::Known(x), Dim::Known(y)) if x != y => {
            return Err(format!("dimensions {x} and {y} cannot be broadcast"))
        }
        (x, y) if x == y => x.clone(),
        (Dim::Known(x), _) | (_, Dim::Known(x)) => Dim::Known(*x),
        _ => Dim::Unknown,
    })
}

fn broadcast(shapes: &[Shape]) -> Result<Shape, String> {
    let mut out: Vec<Dim> = Vec::new();
    for s in shapes {
        let Some(s) = s else { return Ok(None) };
        if s.len() > out.len() {
            let mut pad = vec![Dim::Known(1); s.len() - out.len()];
            pad.extend(out);
            out = pad;
        }
        let off = out.len() - s.len();
        for (i, d) in s.iter().enumerate() {
            out[off + i] = bcast_dim(&out[off + i], d)?;
        }
    }
    Ok(Some(out))
}

/// All known element types among `ts` must agree.
fn same_type(ts: &[&TypeInfo]) -> Result<Option<ElemType>, String> {
    let mut found: Option<ElemType> = None;
    for t in ts {
        if let Some(e) = elem(t) {
            match found {
                Some(f) if f != e => return Err(format!("input types differ: {f} and {e}")),
                _ => found = Some(e),
            }
        }
    }
    Ok(found)
}

fn norm_axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    (0..r.max(1)).contains(&v).then_some(v as usize)
}

fn ints_of(t: Option<&Tensor>) -> Option<Vec<i64>> {
    t.and_then(|t| t.to_i64_vec().ok())
}

fn node_types(
    n: &Node,
    opset: i64,
    ins: &[TypeInfo],
    cins: &[Option<&Tensor>],
) -> Result<Vec<TypeInfo>, String> {
    if !n.domain.is_empty() {
        return Ok(vec![]);
    }
    let t0 = ins.first().cloned().unwrap_or(TypeInfo::Unknown);
    let e0 = elem(&t0);
    let s0 = shape(&t0);
    let same = || Ok(vec![t0.clone()]);
    let op = n.op_type.as_str();
    match op {
        "Relu"
        | "Tanh"
        | "Sigmoid"
        | "Erf"
        | "Abs"
        | "Neg"
        | "Exp"
        | "Log"
        | "Sqrt"
        | "Reciprocal"
        | "Floor"
        | "Ceil"
        | "Round"
        | "Sin"
        | "Cos"
        | "Tan"
        | "Asin"
        | "Acos"
        | "Atan"
        | "Sinh"
        | "Cosh"
        | "Asinh"
        | "Acosh"
        | "Atanh"
        | "Sign"
        | "HardSigmoid"
        | "HardSwish"
        | "LeakyRelu"
        | "Elu"
        | "Selu"
        | "Celu"
        | "Softplus"
        | "Softsign"
        | "ThresholdedRelu"
        | "Mish"
        | "Gelu"
        | "Clip"
        | "Softmax"
        | "LogSoftmax"
        | "Hardmax"
        | "Identity"
        | "BatchNormalization"
        | "InstanceNormalization"
        | "LRN"
        | "Shrink"
        | "CumSum"
        | "MeanVarianceNormalization"
        | "Trilu"
        | "ReverseSequence"
        | "Swish" => same(),
        "PRelu" => {
            same_type(&[&ins[0], ins.get(1).unwrap_or(&TypeInfo::Unknown)])?;
            same()
        }
        "Not" => Ok(vec![tensor(Some(ElemType::Bool), s0)]),
        "IsNaN" | "IsInf" => Ok(vec![tensor(Some(ElemType::Bool), s0)]),
        "Dropout" => Ok(vec![t0.clone(), tensor(Some(ElemType::Bool), s0)]),
        "LayerNormalization" => {
            let axis = n.attr_int("axis").unwrap_or(-1);
            let stash = match (&s0, norm_axis(axis, s0.as_ref().map_or(0, |s| s.len()))) {
                (Some(s), Some(a)) => Some(
                    s.iter()
                        .enumerate()
                        .map(|(i, d)| if i < a { d.clone() } else { Dim::Known(1) })
                        .collect(),
                ),
                _ => None,
            };
            Ok(vec![
                t0.clone(),
                tensor(Some(ElemType::F32), stash.clone()),
                tensor(Some(ElemType::F32), stash),
            ])
        }
        "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" | "Sum" | "Mean" | "Mod" | "BitShift"
        | "BitwiseAnd" | "BitwiseOr" | "BitwiseXor" => {
            let refs: Vec<&TypeInfo> = ins.iter().collect();
            let e = same_type(&refs)?;
            let s = broadcast(&ins.iter().map(shape).collect::<Vec<_>>())?;
            Ok(vec![tensor(e, s)])
        }
        "Pow" => Ok(vec![tensor(
            e0,
            broadcast(&ins.iter().map(shape).collect::<Vec<_>>())?,
        )]),
        "Equal" | "Greater" | "Less" | "GreaterOrEqual" | "LessOrEqual" | "And" | "Or" | "Xor" => {
            same_type(&ins.iter().collect::<Vec<_>>())?;
            Ok(vec![tensor(
                Some(ElemType::Bool),
                broadcast(&ins.iter().map(shape).collect::<Vec<_>>())?,
            )])
        }
        "Where" => {
            let e = same_type(&[&ins[1], ins.get(2).unwrap_or(&TypeInfo::Unknown)])?;
            Ok(vec![tensor(
                e,
                broadcast(&ins.iter().map(shape).collect::<Vec<_>>())?,
            )])
        }
        "Cast" => Ok(vec![tensor(
            n.attr_int("to").and_then(|c| ElemType::from_onnx(c as i32)),
            s0,
        )]),
        "CastLike" => Ok(vec![tensor(ins.get(1).and_then(elem), s0)]),
        "Shape" => {
            let r = s0.as_ref().map(|s| s.len() as i64);
            let len = r.map(|r| {
                let clamp = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) };
                let start = clamp(n.attr_int("start").unwrap_or(0));
                let end = clamp(n.attr_int("end").unwrap_or(r));
                (end - start).max(0)
            });
            Ok(vec![tensor(
                Some(ElemType::I64),
                Some(vec![len.map_or(Dim::Unknown, Dim::Known)]),
            )])
        }
        "Size" => Ok(vec![tensor(Some(ElemType::I64), Some(vec![]))]),
        "MatMul" | "MatMulInteger" | "QLinearMatMul" => {
            let (a, b) = (s0, ins.get(1).and_then(shape));
            let e = match op {
                "MatMul" => same_type(&[&ins[0], &ins[1]])?,
                "MatMulInteger" => Some(ElemType::I32),
                _ => ins.get(7).and_then(elem),
            };
            let bi = if op == "QLinearMatMul" {
                ins.get(3).and_then(shape)
            } else {
                b
            };
            Ok(vec![tensor(e, matmul_shape(a, bi))])
        }
        "Gemm" => {
            let e = same_type(&[&ins[0], &ins[1]])?;
            let (ta, tb) = (
                n.attr_int("transA").unwrap_or(0) != 0,
                n.attr_int("transB").unwrap_or(0) != 0,
            );
            let s = match (s0, ins.get(1).and_then(shape)) {
                (Some(a), Some(b)) if a.len() == 2 && b.len() == 2 => Some(vec![
                    a[if ta { 1 } else { 0 }].clone(),
                    b[if tb { 0 } else { 1 }].clone(),
                ]),
                _ => None,
            };
            Ok(vec![tensor(e, s)])
        }
        "Conv" | "ConvInteger" | "QLinearConv" | "MaxPool" | "AveragePool" | "LpPool" => {
            let e = match op {
                "ConvInteger" => Some(ElemType::I32),
                "QLinearConv" => ins.get(7).and_then(elem),
                _ => e0,
            };
            let w = match op {
                "QLinearConv" => ins.get(3).and_then(shape),
                _ => ins.get(1).and_then(shape),
            };
            let s = conv_shape(n, s0.clone(), if op.contains("Pool") { None } else { w });
            let mut outs = vec![tensor(e, s.clone())];
            if op == "MaxPool" {
                outs.push(tensor(Some(ElemType::I64), s));
            }
            Ok(outs)
        }
        "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => {
            let s = s0.map(|s| {
                s.iter()
                    .enumerate()
                    .map(|(i, d)| if i < 2 { d.clone() } else { Dim::Known(1) })
                    .collect()
            });
            Ok(vec![tensor(e0, s)])
        }
        "Flatten" => {
            let s = s0.and_then(|s| {
                let a = n.attr_int("axis").unwrap_or(1);
                let a = if a < 0 { a + s.len() as i64 } else { a } as usize;
                let prod = |d: &[Dim]| d.iter().try_fold(1i64, |acc, d| d.known().map(|v| acc * v));
                (a <= s.len()).then(|| {
                    vec![
                        prod(&s[..a]).map_or(Dim::Unknown, Dim::Known),
                        prod(&s[a..]).map_or(Dim::Unknown, Dim::Known),
                    ]
                })
            });
            Ok(vec![tensor(
                e0,
                s.or(Some(vec![Dim::Unknown, Dim::Unknown])),
            )])
        }
        "Transpose" => {
            let s = s0.map(|s| match n.attr_ints("perm") {
                Some(p) if p.len() == s.len() => p
                    .iter()
                    .map(|&i| s.get(i as usize).cloned().unwrap_or(Dim::Unknown))
                    .collect(),
                _ => s.iter().rev().cloned().collect(),
            });
            Ok(vec![tensor(e0, s)])
        }
        "Reshape" => {
            let target = ints_of(cins.get(1).copied().flatten());
            let allowzero = n.attr_int("allowzero").unwrap_or(0) != 0;
            let s = target.map(|t| {
                let mut dims: Vec<Dim> = t
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| match v {
                        0 if !allowzero => s0
                            .as_ref()
                            .and_then(|s| s.get(i).cloned())
                            .unwrap_or(Dim::Unknown),
                        -1 => Dim::Unknown,
                        v => Dim::Known(v),
                    })
                    .collect();
                if let (Some(pos), Some(total)) = (
                    t.iter().position(|&v| v == -1),
                    s0.as_ref()
                        .and_then(|s| s.iter().try_fold(1i64, |a, d| d.known().map(|v| a * v))),
                ) {
                    let rest: Option<i64> = dims
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != pos)
                        .try_fold(1i64, |a, (_, d)| d.known().map(|v| a * v));
                    if let Some(r) = rest.filter(|&r| r > 0) {
                        dims[pos] = Dim::Known(total / r);
                    }
                }
                dims
            });
            Ok(vec![tensor(e0, s)])
        }
        "Unsqueeze" | "Squeeze" => {
            let axes = if opset >= 13 {
                ints_of(cins.get(1).copied().flatten())
            } else {
                n.attr_ints("axes").map(|a| a.to_vec())
            };
            let s = match (s0, axes) {
                (Some(s), Some(axes)) if op == "Unsqueeze" => {
                    let r = s.len() + axes.len();
                    let ax: Vec<usize> = axes.iter().filter_map(|&a| norm_axis(a, r)).collect();
                    let mut it = s.into_iter();
                    Some(
                        (0..r)
                            .map(|i| {
                                if ax.contains(&i) {
                                    Dim::Known(1)
                                } else {
                                    it.next().unwrap_or(Dim::Unknown)
                                }
                            })
                            .collect(),
                    )
                }
                (Some(s), Some(axes)) => {
                    let ax: Vec<usize> =
                        axes.iter().filter_map(|&a| norm_axis(a, s.len())).collect();
                    Some(
                        s.into_iter()
                            .enumerate()
                            .filter(|(i, _)| !ax.contains(i))
                            .map(|(_, d)| d)
                            .collect(),
                    )
                }
                (Some(s), None) if op == "Squeeze" && ins.len() < 2 && n.attr("axes").is_none() => {
                    if s.iter().all(|d| d.known().is_some()) {
                        Some(s.into_iter().filter(|d| d.known() != Some(1)).collect())
                    } else {
                        None
                    }
                }
                _ => None,
            };
            Ok(vec![tensor(e0, s)])
        }
        "Concat" => {
            let e = same_type(&ins.iter().collect::<Vec<_>>())?;
            let shapes: Vec<Shape> = ins.iter().map(shape).collect();
            let s = shapes
                .iter()
                .try_fold(None::<Vec<Dim>>, |acc, s| {
                    let s = s.clone()?;
                    let a = norm_axis(n.attr_int("axis").unwrap_or(0), s.len())?;
                    Some(Some(match acc {
                        None => s,
                        Some(mut acc) => {
                            acc[a] = match (acc[a].known(), s[a].known()) {
                                (Some(x), Some(y)) => Dim::Known(x + y),
                                _ => Dim::Unknown,
                            };
                            acc
                        }
                    }))
                })
                .flatten();
            Ok(vec![tensor(e, s)])
        }
        "Gather" => {
            let s = match (s0, ins.get(1).and_then(shape)) {
                (Some(d), Some(i)) => {
                    norm_axis(n.attr_int("axis").unwrap_or(0), d.len()).map(|a| {
                        d[..a]
                            .iter()
                            .cloned()
                            .chain(i)
                            .chain(d[a + 1..].iter().cloned())
                            .collect()
                    })
                }
                _ => None,
            };
            Ok(vec![tensor(e0, s)])
        }
        "Constant" => Ok(vec![
            match n.attrs.first().map(|a| (a.name.as_str(), &a.value)) {
                Some(("value", AttrValue::Tensor(t))) => {
                    TypeInfo::tensor(t.elem(), Some(known(t.shape())))
                }
                Some(("value_float", _)) => TypeInfo::tensor(ElemType::F32, Some(vec![])),
                Some(("value_int", _)) => TypeInfo::tensor(ElemType::I64, Some(vec![])),
                Some(("value_floats", AttrValue::Floats(v))) => {
                    TypeInfo::tensor(ElemType::F32, Some(vec![Dim::Known(v.len() as i64)]))
                }
                Some(("value_ints", AttrValue::Ints(v))) => {
                    TypeInfo::tensor(ElemType::I64, Some(vec![Dim::Known(v.len() as i64)]))
                }
                Some(("value_string", _)) => TypeInfo::tensor(ElemType::String, Some(vec![])),
                Some(("value_strings", AttrValue::Strings(v))) => {
                    TypeInfo::tensor(ElemType::String, Some(vec![Dim::Known(v.len() as i64)]))
                }
                _ => TypeInfo::Unknown,
            },
        ]),
        "ConstantOfShape" => {
            let e = match n.attr("value") {
                Some(AttrValue::Tensor(t)) => t.elem(),
                _ => ElemType::F32,
            };
            let s = ints_of(cins.first().copied().flatten())
                .map(|v| known(&v))
                .or_else(|| {
                    s0.as_ref()
                        .and_then(|s| s.first().and_then(|d| d.known()))
                        .map(|r| vec![Dim::Unknown; r as usize])
                });
            Ok(vec![tensor(Some(e), s)])
        }
        "Range" => Ok(vec![tensor(e0, Some(vec![Dim::Unknown]))]),
        "Slice" | "Expand" | "Tile" | "Pad" | "Resize" | "Upsample" | "DepthToSpace"
        | "SpaceToDepth" | "GatherElements" | "ScatterElements" | "ScatterND" | "Scatter" => {
            let s = match op {
                "Slice" | "Tile" | "Pad" | "Resize" | "Upsample" => {
                    s0.map(|s| vec![Dim::Unknown; s.len()])
                }
                "ScatterElements" | "ScatterND" | "Scatter" => s0,
                "GatherElements" => ins.get(1).and_then(shape),
                _ => None,
            };
            Ok(vec![tensor(e0, s)])
        }
        "Split" => Ok(n
            .outputs
            .iter()
            .map(|_| tensor(e0, s0.as_ref().map(|s| vec![Dim::Unknown; s.len()])))
            .collect()),
        "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL1"
        | "ReduceL2" | "ReduceLogSum" | "ReduceLogSumExp" | "ReduceSumSquare" | "ArgMax"
        | "ArgMin" => {
            let keep = n.attr_int("keepdims").unwrap_or(1) != 0;
            let axes_from_input =
                matches!(op, "ReduceSum") && opset >= 13 || !op.starts_with("Arg") && opset >= 18;
            let axes: Option<Vec<i64>> = if op.starts_with("Arg") {
                Some(vec![n.attr_int("axis").unwrap_or(0)])
            } else if axes_from_input {
                if ins.len() < 2 || n.inputs[1].is_empty() {
                    Some(vec![])
                } else {
                    ints_of(cins.get(1).copied().flatten())
                }
            } else {
                Some(n.attr_ints("axes").map(|a| a.to_vec()).unwrap_or_default())
            };
            let e = if op.starts_with("Arg") {
                Some(ElemType::I64)
            } else {
                e0
            };
            let noop = n.attr_int("noop_with_empty_axes").unwrap_or(0) != 0;
            let s = match (s0, axes) {
                (Some(s), Some(axes)) => {
                    let all = axes.is_empty() && !noop;
                    let ax: Vec<usize> =
                        axes.iter().filter_map(|&a| norm_axis(a, s.len())).collect();
                    Some(
                        s.into_iter()
                            .enumerate()
                            .filter_map(|(i, d)| {
                                if all || ax.contains(&i) {
                                    keep.then_some(Dim::Known(1))
                                } else {
                                    Some(d)
                                }
                            })
                            .collect(),
                    )
                }
                _ => None,
            };
            Ok(vec![tensor(e, s)])
        }
        "LSTM" | "GRU" | "RNN" => {
            let dirs = if matches!(n.attr("direction"), Some(AttrValue::String(s)) if s == b"bidirectional")
            {
                2
            } else {
                1
            };
            let hidden = n.attr_int("hidden_size").map_or(Dim::Unknown, Dim::Known);
            let batch_first = n.attr_int("layout").unwrap_or(0) == 1;
            let (seq, batch) = match &s0 {
                Some(s) if s.len() == 3 => {
                    if batch_first {
                        (s[1].clone(), s[0].clone())
                    } else {
                        (s[0].clone(), s[1].clone())
                    }
                }
                _ => (Dim::Unknown, Dim::Unknown),
            };
            let d = Dim::Known(dirs);
            let (y, yh) = if batch_first {
                (
                    vec![batch.clone(), seq, d.clone(), hidden.clone()],
                    vec![batch, d, hidden],
                )
            } else {
                (
                    vec![seq, d.clone(), batch.clone(), hidden.clone()],
                    vec![d, batch, hidden],
                )
            };
            Ok(vec![
                tensor(e0, Some(y)),
                tensor(e0, Some(yh.clone())),
                tensor(e0, Some(yh)),
            ])
        }
        "QuantizeLinear" => {
            let e = ins
                .get(2)
                .and_then(elem)
                .or_else(|| {
                    n.attr_int("output_dtype")
                        .filter(|&c| c != 0)
                        .and_then(|c| ElemType::from_onnx(c as i32))
                })
                .or(Some(ElemType::U8));
            Ok(vec![tensor(e, s0)])
        }
        "DequantizeLinear" => Ok(vec![tensor(
            ins.get(1).and_then(elem).or(Some(ElemType::F32)),
            s0,
        )]),
        "DynamicQuantizeLinear" => Ok(vec![
            tensor(Some(ElemType::U8), s0),
            tensor(Some(ElemType::F32), Some(vec![])),
            tensor(Some(ElemType::U8), Some(vec![])),
        ]),
        "If" => Ok(match n.attr("then_branch") {
            Some(AttrValue::Graph(g)) => g
                .outputs
                .iter()
                .map(|o| elem(&o.ty).map_or(TypeInfo::Unknown, |e| TypeInfo::tensor(e, None)))
                .collect(),
            _ => vec![],
        }),
        "Loop" => Ok(match n.attr("body") {
            Some(AttrValue::Graph(g)) => {
                let carried = ins.len().saturating_sub(2);
                g.outputs
                    .iter()
                    .skip(1)
                    .enumerate()
                    .map(|(i, o)| {
                        if i < carried {
                            ins[i + 2].clone()
                        } else {
                            elem(&o.ty).map_or(TypeInfo::Unknown, |e| TypeInfo::tensor(e, None))
                        }
                    })
                    .collect()
            }
            _ => vec![],
        }),
        _ => Ok(vec![]),
    }
}

fn matmul_shape(a: Shape, b: Shape) -> Shape {
    let (mut a, mut b) = (a?, b?);
    let (a1, b1) = (a.len() == 1, b.len() == 1);
    if a1 {
        a.insert(0, Dim::Known(1));
    }
    if b1 {
        b.push(Dim::Known(1));
    }
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let batch = broadcast(&[
        Some(a[..a.len() - 2].to_vec()),
        Some(b[..b.len() - 2].to_vec()),
    ])
    .ok()??;
    let mut out = batch;
    if !a1 {
        out.push(a[a.len() - 2].clone());
    }
    if !b1 {
        out.push(b[b.len() - 1].clone());
    }
    Some(out)
}

fn conv_shape(n: &Node, x: Shape, w: Shape) -> Shape {
    let x = x?;
    if x.len() < 3 {
        return None;
    }
    let sp = x.len() - 2;
    let kernel: Vec<i64> = match n.attr_ints("kernel_shape") {
        Some(k) => k.to_vec(),
        None => w
            .as_ref()?
            .iter()
            .skip(2)
            .map(|d| d.known())
            .collect::<Option<Vec<_>>>()?,
    };
    let strides = n
        .attr_ints("strides")
        .map(|s| s.to_vec())
        .unwrap_or(vec![1; sp]);
    let dil = n
        .attr_ints("dilations")
        .map(|s| s.to_vec())
        .unwrap_or(vec![1; sp]);
    let pads = n
        .attr_ints("pads")
        .map(|s| s.to_vec())
        .unwrap_or(vec![0; 2 * sp]);
    let auto = match n.attr("auto_pad") {
        Some(AttrValue::String(s)) => String::from_utf8_lossy(s).into_owned(),
        _ => "NOTSET".into(),
    };
    let ceil = n.attr_int("ceil_mode").unwrap_or(0) != 0;
    if kernel.len() != sp || strides.len() != sp || dil.len() != sp || pads.len() != 2 * sp {
        return None;
    }
    let channels = match &w {
        Some(w) => w.first().cloned().unwrap_or(Dim::Unknown),
        None => x[1].clone(),
    };
    let mut out = vec![x[0].clone(), channels];
    for i in 0..sp {
        out.push(match x[i + 2].known() {
            Some(d) => {
                let ek = (kernel[i] - 1) * dil[i] + 1;
                let v = match auto.as_str() {
                    "SAME_UPPER" | "SAME_LOWER" => (d + strides[i] - 1) / strides[i],
                    "VALID" => (d - ek) / strides[i] + 1,
                    _ => {
                        let span = d + pads[i] + pads[i + sp] - ek;
                        if ceil {
                            (span + strides[i] - 1) / strides[i] + 1
                        } else {
                            span / strides[i] + 1
                        }
                    }
                };
                Dim::Known(v)
            }
            None => Dim::Unknown,
        });
    }
    Some(out)
}
