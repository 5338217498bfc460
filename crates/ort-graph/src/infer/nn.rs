//! Neural-network ops: products, convolutions, pooling, normalization, recurrent and
//! attention layers, image sampling, losses.

use ort_core::{Dim, ElemType, TypeInfo};

use super::{
    broadcast, dim, norm_axis, one, same_type, tensor, unknown_dims, Cx, Rule, Shape, Window,
};

pub(super) fn infer(cx: &Cx<'_>) -> Rule {
    if !cx.n.domain.is_empty() && cx.domain() != "ai.onnx.preview" {
        return None;
    }
    let (e0, s0) = (cx.e(0), cx.s(0));
    let f32t = Some(ElemType::F32);
    match cx.op() {
        "MatMul" => {
            Some(same_type(&[cx.t(0), cx.t(1)]).map(|e| vec![tensor(e, matmul_shape(s0, cx.s(1)))]))
        }
        "MatMulInteger" => one(Some(ElemType::I32), matmul_shape(s0, cx.s(1))),
        "QLinearMatMul" => one(cx.e(7), matmul_shape(s0, cx.s(3))),
        "Gemm" => Some(same_type(&[cx.t(0), cx.t(1)]).map(|e| {
            let (ta, tb) = (cx.int("transA", 0) != 0, cx.int("transB", 0) != 0);
            let s = match (s0, cx.s(1)) {
                (Some(a), Some(b)) if a.len() == 2 && b.len() == 2 => Some(vec![
                    a[if ta { 1 } else { 0 }].clone(),
                    b[if tb { 0 } else { 1 }].clone(),
                ]),
                _ => Some(vec![Dim::Unknown, Dim::Unknown]),
            };
            vec![tensor(e, s)]
        })),
        "Conv" | "ConvInteger" | "QLinearConv" | "DeformConv" => {
            let e = match cx.op() {
                "ConvInteger" => Some(ElemType::I32),
                "QLinearConv" => cx.e(7),
                _ => e0,
            };
            let w = if cx.op() == "QLinearConv" {
                cx.s(3)
            } else {
                cx.s(1)
            };
            one(e, window_shape(cx, s0, w))
        }
        "MaxPool" | "AveragePool" | "LpPool" => {
            let s = window_shape(cx, s0, None);
            let mut outs = vec![tensor(e0, s.clone())];
            if cx.op() == "MaxPool" && cx.num_out() > 1 {
                outs.push(tensor(Some(ElemType::I64), s));
            }
            Some(Ok(outs))
        }
        "ConvTranspose" => one(e0, conv_transpose_shape(cx, s0, cx.s(1))),
        "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => {
            let s = s0.map(|s| {
                s.iter()
                    .enumerate()
                    .map(|(i, d)| if i < 2 { d.clone() } else { Dim::Known(1) })
                    .collect()
            });
            one(e0, s)
        }
        "MaxRoiPool" => {
            let p = cx.attr_ints("pooled_shape").unwrap_or_default();
            let s = match (s0, cx.s(1)) {
                (Some(x), Some(r)) if x.len() == 4 && p.len() == 2 && !r.is_empty() => Some(vec![
                    r[0].clone(),
                    x[1].clone(),
                    Dim::Known(p[0]),
                    Dim::Known(p[1]),
                ]),
                _ => None,
            };
            one(e0, s)
        }
        "MaxUnpool" => {
            let s = match cx.ints(2) {
                Some(v) => Some(super::known(&v)),
                None if cx.has(2) => unknown_dims(cx.rank(0)),
                None => s0.map(|x| {
                    let sp = x.len().saturating_sub(2);
                    let k = cx.attr_ints("kernel_shape").unwrap_or_default();
                    let st = cx.attr_ints("strides").unwrap_or(vec![1; sp]);
                    let p = cx.attr_ints("pads").unwrap_or(vec![0; 2 * sp]);
                    x.iter()
                        .enumerate()
                        .map(|(i, d)| {
                            if i < 2 || k.len() != sp || st.len() != sp || p.len() != 2 * sp {
                                return if i < 2 { d.clone() } else { Dim::Unknown };
                            }
                            let j = i - 2;
                            dim(d.known().map(|v| (v - 1) * st[j] + k[j] - p[j] - p[j + sp]))
                        })
                        .collect()
                }),
            };
            one(e0, s)
        }
        "Softmax"
        | "LogSoftmax"
        | "Hardmax"
        | "LRN"
        | "InstanceNormalization"
        | "MeanVarianceNormalization"
        | "LpNormalization"
        | "RMSNormalization"
        | "RotaryEmbedding"
        | "GroupNormalization"
        | "SwiGLU" => one(e0, s0),
        "BatchNormalization" => {
            let c = s0.as_ref().and_then(|s| s.get(1).cloned());
            let stat = tensor(cx.e(3).or(e0), Some(vec![c.unwrap_or(Dim::Unknown)]));
            let mut outs = vec![cx.t(0).clone()];
            outs.extend((1..cx.num_out()).map(|_| stat.clone()));
            Some(Ok(outs))
        }
        "LayerNormalization" => {
            let stash = match (
                &s0,
                s0.as_ref()
                    .and_then(|s| norm_axis(cx.int("axis", -1), s.len())),
            ) {
                (Some(s), Some(a)) => Some(
                    s.iter()
                        .enumerate()
                        .map(|(i, d)| if i < a { d.clone() } else { Dim::Known(1) })
                        .collect(),
                ),
                _ => None,
            };
            let st = cx.dtype("stash_type").or(f32t);
            Some(Ok(vec![
                cx.t(0).clone(),
                tensor(st, stash.clone()),
                tensor(st, stash),
            ]))
        }
        "LSTM" | "GRU" | "RNN" => Some(Ok(recurrent(cx, e0, s0))),
        "Attention" => Some(Ok(attention(cx, e0))),
        "FlexAttention" => {
            let s = match (cx.s(0), cx.s(2)) {
                (Some(q), Some(v)) if q.len() == 4 && v.len() == 4 => {
                    Some(vec![q[0].clone(), q[1].clone(), q[2].clone(), v[3].clone()])
                }
                _ => None,
            };
            one(e0, s)
        }
        "LinearAttention" => {
            let (hq, hkv) = (cx.int("q_num_heads", 0), cx.int("kv_num_heads", 0));
            let (k, v) = (cx.s(1), cx.s(2));
            let last = |s: &Shape| s.as_ref().and_then(|s| s.last().and_then(|d| d.known()));
            let dv = last(&v).filter(|_| hkv > 0).map(|x| x / hkv);
            let dk = last(&k).filter(|_| hkv > 0).map(|x| x / hkv);
            let y = s0
                .as_ref()
                .filter(|s| s.len() == 3)
                .map(|s| vec![s[0].clone(), s[1].clone(), dim(dv.map(|d| d * hq))]);
            let b = s0
                .as_ref()
                .and_then(|s| s.first().cloned())
                .unwrap_or(Dim::Unknown);
            let state = Some(vec![b, dim(Some(hkv).filter(|&h| h > 0)), dim(dk), dim(dv)]);
            Some(Ok(vec![tensor(e0, y), tensor(e0, state)]))
        }
        "CausalConvWithState" => {
            let state = match (&s0, cx.s(1)) {
                (Some(x), Some(w)) if x.len() >= 2 && !w.is_empty() => {
                    let k = w.last().and_then(|d| d.known());
                    Some(vec![x[0].clone(), x[1].clone(), dim(k.map(|k| k - 1))])
                }
                _ => None,
            };
            Some(Ok(vec![tensor(e0, s0), tensor(e0, state)]))
        }
        "Einsum" => one(e0, einsum_shape(cx)),
        "Det" => one(
            e0,
            s0.filter(|s| s.len() >= 2)
                .map(|s| s[..s.len() - 2].to_vec()),
        ),
        "GridSample" => {
            let s = match (s0, cx.s(1)) {
                (Some(x), Some(g)) if x.len() >= 3 && g.len() == x.len() => {
                    let mut o = vec![x[0].clone(), x[1].clone()];
                    o.extend(g[1..g.len() - 1].iter().cloned());
                    Some(o)
                }
                (s, _) => unknown_dims(s.map(|s| s.len())),
            };
            one(e0, s)
        }
        "AffineGrid" => {
            let s = cx.ints(1).and_then(|size| match size.len() {
                4 => Some(super::known(&[size[0], size[2], size[3], 2])),
                5 => Some(super::known(&[size[0], size[2], size[3], size[4], 3])),
                _ => None,
            });
            one(e0, s)
        }
        "RoiAlign" => {
            let (h, w) = (cx.int("output_height", 1), cx.int("output_width", 1));
            let s = Some(vec![
                cx.s(1)
                    .and_then(|r| r.first().cloned())
                    .unwrap_or(Dim::Unknown),
                s0.and_then(|x| x.get(1).cloned()).unwrap_or(Dim::Unknown),
                Dim::Known(h),
                Dim::Known(w),
            ]);
            one(e0, s)
        }
        "NonMaxSuppression" => one(Some(ElemType::I64), Some(vec![Dim::Unknown, Dim::Known(3)])),
        "Col2Im" => {
            let s = match (s0, cx.ints(1), cx.ints(2)) {
                (Some(x), Some(img), Some(blk)) if x.len() == 3 => {
                    let c = dim(x[1].known().and_then(|v| {
                        let b: i64 = blk.iter().product();
                        (b > 0).then(|| v / b)
                    }));
                    let mut o = vec![x[0].clone(), c];
                    o.extend(img.iter().map(|&v| Dim::Known(v)));
                    Some(o)
                }
                _ => None,
            };
            one(e0, s)
        }
        "Resize" | "Upsample" => one(e0, resize_shape(cx, s0)),
        "SoftmaxCrossEntropyLoss" | "NegativeLogLikelihoodLoss" => {
            let none = cx.string("reduction").as_deref() == Some("none");
            let loss = if none {
                s0.as_ref().map(|s| {
                    s.iter()
                        .enumerate()
                        .filter(|(i, _)| *i != 1)
                        .map(|(_, d)| d.clone())
                        .collect()
                })
            } else {
                Some(vec![])
            };
            let mut outs = vec![tensor(e0, loss)];
            if cx.num_out() > 1 {
                outs.push(tensor(e0, s0));
            }
            Some(Ok(outs))
        }
        _ => None,
    }
}

pub(super) fn matmul_shape(a: Shape, b: Shape) -> Shape {
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

fn window(cx: &Cx<'_>, sp: usize, w: &Shape) -> Option<Window> {
    let kernel: Vec<i64> = match cx.attr_ints("kernel_shape") {
        Some(k) => k,
        None => w
            .as_ref()?
            .iter()
            .skip(2)
            .map(|d| d.known())
            .collect::<Option<Vec<_>>>()?,
    };
    let win = Window {
        kernel,
        strides: cx.attr_ints("strides").unwrap_or(vec![1; sp]),
        dilations: cx.attr_ints("dilations").unwrap_or(vec![1; sp]),
        pads: cx.attr_ints("pads").unwrap_or(vec![0; 2 * sp]),
        auto_pad: cx.string("auto_pad").unwrap_or_else(|| "NOTSET".into()),
        ceil: cx.int("ceil_mode", 0) != 0,
    };
    (win.kernel.len() == sp
        && win.strides.len() == sp
        && win.dilations.len() == sp
        && win.pads.len() == 2 * sp)
        .then_some(win)
}

fn window_shape(cx: &Cx<'_>, x: Shape, w: Shape) -> Shape {
    let x = x?;
    if x.len() < 3 {
        return None;
    }
    let sp = x.len() - 2;
    let channels = match &w {
        Some(w) => w.first().cloned().unwrap_or(Dim::Unknown),
        None => x[1].clone(),
    };
    let mut out = vec![x[0].clone(), channels];
    match window(cx, sp, &w) {
        Some(win) => out.extend((0..sp).map(|i| dim(x[i + 2].known().map(|d| win.out(i, d))))),
        None => out.extend((0..sp).map(|_| Dim::Unknown)),
    }
    Some(out)
}

fn conv_transpose_shape(cx: &Cx<'_>, x: Shape, w: Shape) -> Shape {
    let x = x?;
    if x.len() < 3 {
        return None;
    }
    let sp = x.len() - 2;
    let group = cx.int("group", 1);
    let m = w
        .as_ref()
        .and_then(|w| w.get(1).and_then(|d| d.known()))
        .map(|m| m * group);
    let mut out = vec![x[0].clone(), dim(m)];
    if let Some(os) = cx.attr_ints("output_shape") {
        let os = &os[os.len().saturating_sub(sp)..];
        out.extend(os.iter().map(|&v| Dim::Known(v)));
        return Some(out);
    }
    let Some(win) = window(cx, sp, &w) else {
        out.extend((0..sp).map(|_| Dim::Unknown));
        return Some(out);
    };
    let op = cx.attr_ints("output_padding").unwrap_or(vec![0; sp]);
    for i in 0..sp {
        out.push(dim(x[i + 2].known().map(|d| {
            let s = win.strides[i];
            match win.auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => d * s,
                _ => {
                    let ek = (win.kernel[i] - 1) * win.dilations[i] + 1;
                    s * (d - 1) + op.get(i).copied().unwrap_or(0) + ek
                        - win.pads[i]
                        - win.pads[i + sp]
                }
            }
        })));
    }
    Some(out)
}

fn recurrent(cx: &Cx<'_>, e0: Option<ElemType>, s0: Shape) -> Vec<TypeInfo> {
    let dirs = if cx.string("direction").as_deref() == Some("bidirectional") {
        2
    } else {
        1
    };
    let hidden = cx.opt_int("hidden_size").map_or(Dim::Unknown, Dim::Known);
    let batch_first = cx.int("layout", 0) == 1;
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
    vec![
        tensor(e0, Some(y)),
        tensor(e0, Some(yh.clone())),
        tensor(e0, Some(yh)),
    ]
}

/// Attention-23/24: Y, present_key, present_value, qk_matmul_output.
fn attention(cx: &Cx<'_>, e0: Option<ElemType>) -> Vec<TypeInfo> {
    let (q, k, v) = (cx.s(0), cx.s(1), cx.s(2));
    let (hq, hkv) = (cx.int("q_num_heads", 0), cx.int("kv_num_heads", 0));
    let div = |d: &Dim, h: i64| dim(d.known().filter(|_| h > 0).map(|x| x / h));
    // Everything in 4D [batch, heads, seq, head_size].
    let to4 = |s: &Shape, h: i64| -> Shape {
        let s = s.as_ref()?;
        match s.len() {
            4 => Some(s.clone()),
            3 => Some(vec![
                s[0].clone(),
                dim(Some(h).filter(|&h| h > 0)),
                s[1].clone(),
                div(&s[2], h),
            ]),
            _ => None,
        }
    };
    let (q4, k4, v4) = (to4(&q, hq), to4(&k, hkv), to4(&v, hkv));
    let past = cx.s(4).filter(|_| cx.has(4));
    let total = match (&k4, &past) {
        (Some(k), Some(p)) if p.len() == 4 => {
            dim(k[2].known().zip(p[2].known()).map(|(a, b)| a + b))
        }
        (Some(k), None) => k[2].clone(),
        _ => Dim::Unknown,
    };
    let y = match (&q, &q4, &v4) {
        (Some(qs), Some(q4), Some(v4)) if qs.len() == 3 => Some(vec![
            qs[0].clone(),
            qs[1].clone(),
            dim(v4[3].known().map(|d| d * hq)),
        ]),
        (Some(_), Some(q4), Some(v4)) => Some(vec![
            q4[0].clone(),
            q4[1].clone(),
            q4[2].clone(),
            v4[3].clone(),
        ]),
        _ => None,
    };
    let present = |s: &Shape| {
        s.as_ref()
            .map(|s| vec![s[0].clone(), s[1].clone(), total.clone(), s[3].clone()])
    };
    let qk = q4
        .as_ref()
        .map(|q| vec![q[0].clone(), q[1].clone(), q[2].clone(), total.clone()]);
    let mut outs = vec![
        tensor(e0, y),
        tensor(e0, present(&k4)),
        tensor(e0, present(&v4)),
        tensor(e0, qk),
    ];
    outs.truncate(cx.num_out());
    outs
}

fn einsum_shape(cx: &Cx<'_>) -> Shape {
    let eq: String = cx
        .string("equation")?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (eq.clone(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    let mut sizes: std::collections::HashMap<char, Dim> = Default::default();
    let mut counts: std::collections::BTreeMap<char, usize> = Default::default();
    let mut ell: Option<Vec<Dim>> = None;
    for (i, term) in terms.iter().enumerate() {
        let s = cx.s(i)?;
        let letters: Vec<char> = term.replace("...", "").chars().collect();
        let n_ell = s.len().checked_sub(letters.len())?;
        let mut pos = 0;
        let mut rest = *term;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("...") {
                let e = s[pos..pos + n_ell].to_vec();
                ell = Some(match ell {
                    Some(prev) => broadcast(&[Some(prev), Some(e)]).ok()??,
                    None => e,
                });
                pos += n_ell;
                rest = r;
            } else {
                let c = rest.chars().next()?;
                let d = s.get(pos)?.clone();
                let entry = sizes.entry(c).or_insert(Dim::Unknown);
                if *entry == Dim::Unknown || entry.known() == Some(1) {
                    *entry = d;
                }
                *counts.entry(c).or_default() += 1;
                pos += 1;
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    let out_term = rhs.unwrap_or_else(|| {
        let mut t = if ell.is_some() {
            "...".to_string()
        } else {
            String::new()
        };
        t.extend(counts.iter().filter(|(_, &n)| n == 1).map(|(c, _)| *c));
        t
    });
    let mut out = Vec::new();
    let mut rest = out_term.as_str();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("...") {
            out.extend(ell.clone().unwrap_or_default());
            rest = r;
        } else {
            let c = rest.chars().next()?;
            out.push(sizes.get(&c)?.clone());
            rest = &rest[c.len_utf8()..];
        }
    }
    Some(out)
}

fn resize_shape(cx: &Cx<'_>, s0: Shape) -> Shape {
    let s = s0?;
    let r = s.len();
    let (scales, sizes) = match (cx.op(), cx.opset) {
        ("Upsample", v) if v < 9 => (
            cx.floats_attr("scales")
                .map(|v| v.iter().map(|&f| f as f64).collect()),
            None,
        ),
        ("Upsample", _) => (cx.floats(1), None),
        (_, 10) => (cx.floats(1), None),
        _ => (
            if cx.has(2) { cx.floats(2) } else { None },
            if cx.has(3) { cx.ints(3) } else { None },
        ),
    };
    let axes: Vec<usize> = match cx.attr_ints("axes") {
        Some(a) => a.iter().filter_map(|&a| norm_axis(a, r)).collect(),
        None => (0..r).collect(),
    };
    let mut out = s.clone();
    if let Some(sz) = sizes.filter(|v| !v.is_empty()) {
        if sz.len() != axes.len() {
            return Some(vec![Dim::Unknown; r]);
        }
        let policy = cx
            .string("keep_aspect_ratio_policy")
            .unwrap_or_else(|| "stretch".into());
        if policy != "stretch" {
            let ratios: Option<Vec<f64>> = axes
                .iter()
                .zip(&sz)
                .map(|(&a, &n)| s[a].known().map(|d| n as f64 / d as f64))
                .collect();
            let Some(ratios) = ratios else {
                return Some(vec![Dim::Unknown; r]);
            };
            let scale = if policy == "not_larger" {
                ratios.iter().cloned().fold(f64::INFINITY, f64::min)
            } else {
                ratios.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            };
            for &a in &axes {
                out[a] = dim(s[a]
                    .known()
                    .map(|d| (d as f64 * scale + 0.5).floor() as i64));
            }
        } else {
            for (&a, &n) in axes.iter().zip(&sz) {
                out[a] = Dim::Known(n);
            }
        }
        return Some(out);
    }
    match scales.filter(|v| !v.is_empty()) {
        Some(sc) if sc.len() == axes.len() => {
            for (&a, &f) in axes.iter().zip(&sc) {
                out[a] = dim(s[a].known().map(|d| (d as f64 * f).floor() as i64));
            }
            Some(out)
        }
        _ => Some(vec![Dim::Unknown; r]),
    }
}
