//! Quantization, signal, text, random, training-optimizer and ai.onnx.ml ops.

use ort_core::{Dim, ElemType, TypeInfo};

use super::{broadcast, dim, norm_axis, one, tensor, Cx, Rule};
use crate::ir::AttrValue;

pub(super) fn infer(cx: &Cx<'_>) -> Rule {
    match cx.domain() {
        "" => default_domain(cx),
        "ai.onnx.ml" => ml(cx),
        "ai.onnx.preview.training" => training(cx),
        _ => None,
    }
}

fn scalar_int(cx: &Cx<'_>, i: usize) -> Option<i64> {
    cx.ints(i).and_then(|v| v.first().copied())
}

fn default_domain(cx: &Cx<'_>) -> Rule {
    let (e0, s0) = (cx.e(0), cx.s(0));
    let f32t = Some(ElemType::F32);
    let string = Some(ElemType::String);
    match cx.op() {
        "QuantizeLinear" => one(
            cx.e(2).or(cx.dtype("output_dtype")).or(Some(ElemType::U8)),
            s0,
        ),
        "DequantizeLinear" => one(cx.dtype("output_dtype").or(cx.e(1)).or(f32t), s0),
        "DynamicQuantizeLinear" => Some(Ok(vec![
            tensor(Some(ElemType::U8), s0),
            tensor(f32t, Some(vec![])),
            tensor(Some(ElemType::U8), Some(vec![])),
        ])),
        "DFT" => {
            let s = s0.and_then(|s| {
                let r = s.len();
                let axis = if cx.opset >= 20 {
                    if cx.has(2) {
                        scalar_int(cx, 2)?
                    } else {
                        -2
                    }
                } else {
                    cx.int("axis", 1)
                };
                let a = norm_axis(axis, r)?;
                let given = if cx.has(1) { scalar_int(cx, 1) } else { None };
                let (inverse, onesided) = (cx.int("inverse", 0) != 0, cx.int("onesided", 0) != 0);
                let mut o = s.clone();
                if inverse && onesided {
                    // Half a spectrum in, the full real signal out.
                    let n = given.or_else(|| s[a].known().map(|h| 2 * (h - 1)));
                    o[a] = dim(n);
                    *o.last_mut()? = Dim::Known(1);
                } else {
                    let n = if cx.has(1) { given } else { s[a].known() };
                    o[a] = dim(n.map(|n| if onesided { n / 2 + 1 } else { n }));
                    *o.last_mut()? = Dim::Known(2);
                }
                Some(o)
            });
            one(e0, s)
        }
        "STFT" => {
            let len = if cx.has(3) {
                scalar_int(cx, 3)
            } else {
                cx.s(2).and_then(|w| w.first().and_then(|d| d.known()))
            };
            let step = scalar_int(cx, 1);
            let s = s0.filter(|s| s.len() == 3).map(|s| {
                let frames = match (s[1].known(), len, step) {
                    (Some(n), Some(l), Some(st)) if st > 0 => Some(1 + (n - l) / st),
                    _ => None,
                };
                let bins = len.map(|l| {
                    if cx.int("onesided", 1) != 0 {
                        l / 2 + 1
                    } else {
                        l
                    }
                });
                vec![s[0].clone(), dim(frames), dim(bins), Dim::Known(2)]
            });
            one(e0, s)
        }
        "HannWindow" | "HammingWindow" | "BlackmanWindow" => one(
            cx.dtype("output_datatype").or(f32t),
            Some(vec![dim(scalar_int(cx, 0))]),
        ),
        "MelWeightMatrix" => one(
            cx.dtype("output_datatype").or(f32t),
            Some(vec![
                dim(scalar_int(cx, 1).map(|n| n / 2 + 1)),
                dim(scalar_int(cx, 0)),
            ]),
        ),
        "StringNormalizer" => one(
            string,
            s0.map(|s| {
                s.iter()
                    .enumerate()
                    .map(|(i, d)| {
                        if i + 1 == s.len() {
                            Dim::Unknown
                        } else {
                            d.clone()
                        }
                    })
                    .collect()
            }),
        ),
        "StringSplit" => Some(Ok(vec![
            tensor(
                string,
                s0.clone().map(|mut s| {
                    s.push(Dim::Unknown);
                    s
                }),
            ),
            tensor(Some(ElemType::I64), s0),
        ])),
        "StringConcat" => Some(broadcast(&[s0, cx.s(1)]).map(|s| vec![tensor(string, s)])),
        "RegexFullMatch" => one(Some(ElemType::Bool), s0),
        "TfIdfVectorizer" => {
            let width = cx
                .attr_ints("ngram_indexes")
                .and_then(|v| v.iter().max().map(|m| m + 1));
            let s = s0.map(|s| match s.len() {
                2 => vec![s[0].clone(), dim(width)],
                _ => vec![dim(width)],
            });
            one(f32t, s)
        }
        "ImageDecoder" => {
            let c = match cx.string("pixel_format").as_deref() {
                Some("Grayscale") => 1,
                _ => 3,
            };
            one(
                Some(ElemType::U8),
                Some(vec![Dim::Unknown, Dim::Unknown, Dim::Known(c)]),
            )
        }
        "RandomNormal" | "RandomUniform" => one(
            cx.dtype("dtype").or(f32t),
            cx.attr_ints("shape").map(|v| super::known(&v)),
        ),
        "RandomNormalLike" | "RandomUniformLike" | "Bernoulli" => one(cx.dtype("dtype").or(e0), s0),
        "Multinomial" => {
            let batch = s0.and_then(|s| s.first().cloned()).unwrap_or(Dim::Unknown);
            one(
                cx.dtype("dtype").or(Some(ElemType::I32)),
                Some(vec![batch, Dim::Known(cx.int("sample_size", 1))]),
            )
        }
        _ => None,
    }
}

fn ml(cx: &Cx<'_>) -> Rule {
    let (e0, s0) = (cx.e(0), cx.s(0));
    let f32t = Some(ElemType::F32);
    let rows = || {
        s0.as_ref()
            .and_then(|s| s.first().cloned())
            .unwrap_or(Dim::Unknown)
    };
    match cx.op() {
        "LabelEncoder" => {
            let e = if cx.n.attr("values_strings").is_some() {
                Some(ElemType::String)
            } else if cx.n.attr("values_int64s").is_some() {
                Some(ElemType::I64)
            } else if cx.n.attr("values_floats").is_some() {
                f32t
            } else {
                match cx.n.attr("values_tensor") {
                    Some(AttrValue::Tensor(t)) => Some(t.elem()),
                    _ => None,
                }
            };
            one(e, s0)
        }
        "TreeEnsemble" => one(e0, Some(vec![rows(), Dim::Known(cx.int("n_targets", 1))])),
        "TreeEnsembleRegressor" | "LinearRegressor" => one(
            f32t,
            Some(vec![
                rows(),
                Dim::Known(cx.int("n_targets", cx.int("targets", 1))),
            ]),
        ),
        "ArrayFeatureExtractor" => {
            let k = cx.s(1).and_then(|s| super::prod(&s));
            let s = s0.map(|mut s| {
                match s.last_mut() {
                    Some(l) => *l = dim(k),
                    None => s.push(dim(k)),
                }
                s
            });
            one(e0, s)
        }
        "Binarizer" | "Imputer" => one(e0, s0),
        "Normalizer" | "Scaler" => one(f32t, s0),
        "CategoryMapper" => one(
            match e0 {
                Some(ElemType::String) => Some(ElemType::I64),
                Some(_) => Some(ElemType::String),
                None => None,
            },
            s0,
        ),
        "OneHotEncoder" => {
            let n = match (cx.n.attr("cats_int64s"), cx.n.attr("cats_strings")) {
                (Some(AttrValue::Ints(v)), _) => Some(v.len() as i64),
                (_, Some(AttrValue::Strings(v))) => Some(v.len() as i64),
                _ => None,
            };
            one(
                f32t,
                s0.map(|mut s| {
                    s.push(dim(n));
                    s
                }),
            )
        }
        "FeatureVectorizer" => {
            let width = cx
                .attr_ints("inputdimensions")
                .map(|d| d.iter().sum::<i64>());
            one(f32t, Some(vec![rows(), dim(width)]))
        }
        "SVMRegressor" => one(f32t, Some(vec![rows(), Dim::Known(1)])),
        "LinearClassifier" | "SVMClassifier" => {
            let label = if cx.n.attr("classlabels_strings").is_some() {
                ElemType::String
            } else {
                ElemType::I64
            };
            Some(Ok(vec![
                TypeInfo::tensor(label, Some(vec![rows()])),
                TypeInfo::tensor(ElemType::F32, Some(vec![rows(), Dim::Unknown])),
            ]))
        }
        _ => None,
    }
}

/// Adagrad, Momentum and Adam: inputs R, T, then groups of tensors (X, G, and one or
/// two state groups); outputs the new X and the new states, typed like their inputs.
fn training(cx: &Cx<'_>) -> Rule {
    let groups = match cx.op() {
        "Adagrad" | "Momentum" => 3,
        "Adam" => 4,
        _ => return None,
    };
    let n = cx.num_in().saturating_sub(2) / groups;
    if n == 0 {
        return Some(Ok(vec![]));
    }
    Some(Ok((0..cx.num_out())
        .map(|j| {
            let (g, k) = (j / n, j % n);
            let src = if g == 0 { 0 } else { g + 1 };
            match cx.t(2 + src * n + k) {
                t @ TypeInfo::Tensor { .. } => t.clone(),
                _ => TypeInfo::Unknown,
            }
        })
        .collect()))
}
