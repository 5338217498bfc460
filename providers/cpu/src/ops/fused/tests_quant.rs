//! QuantizeDequantize against QuantizeLinear then DequantizeLinear run through the
//! same provider (themselves checked against onnxruntime's values): bit-equal;
//! QuantizedHardSwish against the four ops it replaces, likewise.

use ort_core::{Element, Tensor, Value};

use ort_core::abi::AttrValue;

use crate::testing::{attr, out_f32, run_node, run_node_in};

fn v<T: Element>(shape: &[i64], data: &[T]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_vec(shape, data.to_vec()).unwrap(),
    ))
}

#[test]
fn quantize_dequantize_equals_the_two_ops() {
    // Ties (k + 0.5 steps), saturation at both ends, NaN and ±inf, and enough
    // values for the vector loop and its tail, serially and on the pool.
    let scale = 0.25f32;
    let mut x: Vec<f32> = (0..70_001)
        .map(|i| (i as f32 - 35_000.0) * scale / 8.0 + (i % 3) as f32 * 0.0625)
        .collect();
    x[..6].copy_from_slice(&[
        0.125,
        -0.125,
        0.375,
        f32::NAN,
        f32::INFINITY,
        -f32::INFINITY,
    ]);
    let n = x.len() as i64;
    let zps: [Option<Value>; 2] = [v::<u8>(&[], &[7]), v::<i8>(&[], &[-3])];
    for zp in zps {
        for threads in [1, 2] {
            let ins = [v(&[n], &x), v::<f32>(&[], &[scale]), zp.clone()];
            let q = run_node("QuantizeLinear", 13, &ins, vec![], threads).unwrap();
            let dq_ins = [q[0].clone(), ins[1].clone(), ins[2].clone()];
            let want = run_node("DequantizeLinear", 13, &dq_ins, vec![], threads).unwrap();
            let got = run_node_in(
                "ai.ort_rs.fused",
                "QuantizeDequantize",
                1,
                &ins,
                vec![],
                threads,
            )
            .unwrap();
            let (gs, gv) = out_f32(&got, 0);
            let (ws, wv) = out_f32(&want, 0);
            assert_eq!(gs, ws);
            for (i, (g, w)) in gv.iter().zip(&wv).enumerate() {
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "at {i} (x = {}): {g} vs {w}",
                    x[i]
                );
            }
        }
    }
}

#[test]
fn per_channel_parameters_are_an_error() {
    let ins = [
        v::<f32>(&[2, 2], &[0.0; 4]),
        v::<f32>(&[2], &[0.5, 0.25]),
        v::<u8>(&[2], &[0, 1]),
    ];
    assert!(run_node_in("ai.ort_rs.fused", "QuantizeDequantize", 1, &ins, vec![], 1).is_err());
}

#[test]
fn quantized_hard_swish_equals_the_four_ops() {
    // Around the gate's corners (x = ±3 with alpha 1/6), ties of both round
    // trips, saturation, NaN and ±inf; long enough to be split over the pool.
    let mut x: Vec<f32> = (0..70_003)
        .map(|i| (i as f32 - 35_000.0) / 4096.0 + (i % 5) as f32 * 0.03125)
        .collect();
    x[..5].copy_from_slice(&[3.0, -3.0, f32::NAN, f32::INFINITY, -f32::INFINITY]);
    let n = x.len() as i64;
    let fused = "ai.ort_rs.fused";
    let alpha = || vec![attr("alpha", AttrValue::Float(1.0 / 6.0))];
    let zps: [[Option<Value>; 2]; 2] = [
        [v::<u8>(&[], &[0]), v::<u8>(&[], &[9])],
        [v::<i8>(&[], &[-128]), v::<i8>(&[], &[2])],
    ];
    for [gz, oz] in zps {
        let xv = v(&[n], &x);
        let (gs, os) = (v::<f32>(&[], &[1.0 / 255.0]), v::<f32>(&[], &[0.0625]));
        let h = run_node("HardSigmoid", 6, std::slice::from_ref(&xv), alpha(), 1).unwrap();
        let hq_ins = [h[0].clone(), gs.clone(), gz.clone()];
        let hq = run_node_in(fused, "QuantizeDequantize", 1, &hq_ins, vec![], 1).unwrap();
        let m = run_node("Mul", 14, &[xv.clone(), hq[0].clone()], vec![], 1).unwrap();
        let y_ins = [m[0].clone(), os.clone(), oz.clone()];
        let want = run_node_in(fused, "QuantizeDequantize", 1, &y_ins, vec![], 1).unwrap();
        let ins = [xv, gs, gz, os, oz];
        let got = run_node_in(fused, "QuantizedHardSwish", 1, &ins, alpha(), 1).unwrap();
        let ((gsh, gv), (wsh, wv)) = (out_f32(&got, 0), out_f32(&want, 0));
        assert_eq!(gsh, wsh);
        for (i, (g, w)) in gv.iter().zip(&wv).enumerate() {
            assert_eq!(
                g.to_bits(),
                w.to_bits(),
                "at {i} (x = {}): {g} vs {w}",
                x[i]
            );
        }
    }
}

#[test]
fn quantized_weight_gemm_equals_dequantize_then_fused_gemm() {
    // (m, k, n, transA, transB, per-column parameters, zero point, B constant):
    // the dot-product path (m ≤ 2) with K and N off the 16- and 4-tails, B
    // [K, N] transposed per run or once at build, and the dequantizing path.
    type Case = (usize, usize, usize, bool, bool, bool, bool, bool);
    let cases: [Case; 5] = [
        (1, 37, 23, false, true, true, false, false),
        (2, 64, 9, true, false, false, true, false),
        (1, 50, 30, false, false, true, true, true),
        (5, 21, 7, false, true, true, true, false),
        (1, 4096, 300, false, true, false, true, true),
    ];
    let fused = "ai.ort_rs.fused";
    for (ci, &(m, k, n, ta, tb, per_col, with_zp, constant)) in cases.iter().enumerate() {
        let mut r = crate::testing::noise(40 + ci as u32);
        let a_shape = if ta { [k, m] } else { [m, k] };
        let b_shape = if tb { [n, k] } else { [k, n] }.map(|d| d as i64);
        let a: Vec<f32> = (0..m * k).map(|_| r()).collect();
        let c: Vec<f32> = (0..n).map(|_| r()).collect();
        let np = if per_col { n } else { 1 };
        let scales: Vec<f32> = (0..np).map(|_| 0.01 + r().abs() * 0.05).collect();
        for signed in [true, false] {
            let q: Vec<i32> = (0..k * n).map(|_| (r() * 255.0) as i32).collect();
            let (b, zp) = if signed {
                let b = v::<i8>(&b_shape, &q.iter().map(|&x| x as i8).collect::<Vec<_>>());
                (
                    b,
                    v::<i8>(
                        &[np as i64],
                        &(0..np).map(|j| j as i8 - 2).collect::<Vec<_>>(),
                    ),
                )
            } else {
                let b = v::<u8>(
                    &b_shape,
                    &q.iter().map(|&x| (x + 128) as u8).collect::<Vec<_>>(),
                );
                (
                    b,
                    v::<u8>(
                        &[np as i64],
                        &(0..np).map(|j| 120 + j as u8 % 9).collect::<Vec<_>>(),
                    ),
                )
            };
            let zp = if with_zp { zp } else { None };
            let s = v::<f32>(&[np as i64], &scales);
            let axis = if tb { 0 } else { 1 };
            let dq_ins = [b.clone(), s.clone(), zp.clone()];
            let dq_ins = if with_zp { &dq_ins[..] } else { &dq_ins[..2] };
            let axis_attr = vec![attr("axis", AttrValue::Int(axis))];
            let bf = run_node("DequantizeLinear", 13, dq_ins, axis_attr, 1).unwrap();
            let attrs = || {
                vec![
                    attr("transA", AttrValue::Int(ta as i64)),
                    attr("transB", AttrValue::Int(tb as i64)),
                    attr("alpha", AttrValue::Float(0.75)),
                    attr("beta", AttrValue::Float(1.5)),
                    attr("activation", AttrValue::String("Relu".into())),
                ]
            };
            let av = v(&a_shape.map(|d| d as i64), &a);
            let cv = v(&[n as i64], &c);
            let ins = [av.clone(), bf[0].clone(), cv.clone()];
            let want = run_node_in(fused, "FusedGemm", 1, &ins, attrs(), 1).unwrap();
            let ins = [av, b, cv, s, zp];
            let consts: &[usize] = if constant { &[1, 3, 4] } else { &[] };
            let got = crate::testing::run_node_consts(
                fused,
                "QuantizedWeightGemm",
                1,
                &ins,
                consts,
                attrs(),
                1,
            )
            .unwrap();
            let ((gs, gv), (ws, wv)) = (out_f32(&got, 0), out_f32(&want, 0));
            assert_eq!(gs, ws, "case {ci}");
            // Sums of k terms of about 0.5 · 6 in different orders.
            crate::testing::assert_close(&gv, &wv, 2e-6 * k as f32);
        }
    }
}

#[test]
fn matmul_integer_to_float_equals_the_four_ops() {
    // A [2, 3, k] uint8 with one zero point, B [k, n] int8 with one per column;
    // scale per tensor or per column, with and without a bias: bit-equal.
    let (k, n) = (37usize, 21usize);
    let mut r = crate::testing::noise(77);
    let a: Vec<u8> = (0..6 * k).map(|_| (r() * 255.0 + 128.0) as u8).collect();
    let b: Vec<i8> = (0..k * n).map(|_| (r() * 255.0) as i8).collect();
    let (av, bv) = (
        v::<u8>(&[2, 3, k as i64], &a),
        v::<i8>(&[k as i64, n as i64], &b),
    );
    let (za, zb) = (v::<u8>(&[], &[131]), v::<i8>(&[n as i64], &vec![-3i8; n]));
    let bias: Vec<f32> = (0..n).map(|_| r()).collect();
    let fused = "ai.ort_rs.fused";
    for scale in [
        vec![0.0123f32],
        (0..n).map(|j| 1e-3 * (j as f32 + 1.0)).collect(),
    ] {
        let s = v::<f32>(&[scale.len() as i64], &scale);
        let mm = [av.clone(), bv.clone(), za.clone(), zb.clone()];
        let p = run_node("MatMulInteger", 10, &mm, vec![], 1).unwrap();
        let to = vec![attr("to", AttrValue::Int(1))];
        let f = run_node("Cast", 13, &p, to, 1).unwrap();
        let scaled = run_node("Mul", 14, &[f[0].clone(), s.clone()], vec![], 1).unwrap();
        let biased = v::<f32>(&[n as i64], &bias);
        let with_bias =
            run_node("Add", 14, &[biased.clone(), scaled[0].clone()], vec![], 1).unwrap();
        for (want, bias) in [(scaled, None), (with_bias, biased)] {
            let mut ins = mm.to_vec();
            ins.extend([s.clone(), bias]);
            let got = run_node_in(fused, "MatMulIntegerToFloat", 1, &ins, vec![], 1).unwrap();
            let ((gs, gv), (ws, wv)) = (out_f32(&got, 0), out_f32(&want, 0));
            assert_eq!(gs, ws);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&gv), bits(&wv));
        }
    }
}

#[test]
fn quantized_conv_equals_requantize_dequantize_then_fused_conv() {
    // Channels in and out that leave tails of k-groups and of row tiles, 35
    // positions (a partial panel), both 8-bit types on both sides, per-channel
    // and per-tensor weights with and without zero points, constant (packed at
    // build) or not, each activation form of the store, and a 3×3 window (the
    // float path). X holds levels of its quantizer, a few values between levels
    // and one past the range, which QuantizedConv re-quantizes by definition.
    let fused = "ai.ort_rs.fused";
    let (c, m, hw) = (37usize, 45usize, [5i64, 7]);
    let positions = (hw[0] * hw[1]) as usize;
    let mut r = crate::testing::noise(91);
    let relu = Some(("Relu", vec![]));
    let qdq = Some(("QuantizeDequantize", vec![0.05f32, 120.0, 0.0, 255.0]));
    let cases = [
        (true, true, false, None, 1, true),
        (true, true, true, relu.clone(), 1, true),
        (false, false, true, qdq.clone(), 1, true),
        (false, true, false, qdq.clone(), 1, false),
        (true, false, false, relu, 1, true),
        (true, true, true, qdq, 3, true),
    ];
    for (ci, (x_u8, w_i8, per_channel, act, window, constant)) in cases.into_iter().enumerate() {
        let (sx, zx) = (0.02f32, if x_u8 { 131 } else { -5 });
        let (lo, hi) = if x_u8 { (0, 255) } else { (-128, 127) };
        let x: Vec<f32> = (0..c * positions)
            .map(|i| {
                let level = (lo + (i * 53 % 256) as i32).min(hi);
                let off = if i % 17 == 0 { 0.3 } else { 0.0 };
                (level as f32 - zx as f32 + off) * sx
            })
            .chain([1e3])
            .skip(1)
            .collect();
        let zxv = if x_u8 {
            v::<u8>(&[], &[zx as u8])
        } else {
            v::<i8>(&[], &[zx as i8])
        };
        let wn = m * c * window * window;
        let wshape = [m as i64, c as i64, window as i64, window as i64];
        let np = if per_channel { m } else { 1 };
        let pshape: &[i64] = if per_channel { &[m as i64] } else { &[] };
        let (w, wz) = if w_i8 {
            let w: Vec<i8> = (0..wn).map(|_| (r() * 255.0) as i8).collect();
            let z: Vec<i8> = (0..np).map(|j| (j % 5) as i8 - 2).collect();
            (v::<i8>(&wshape, &w), v::<i8>(pshape, &z))
        } else {
            let w: Vec<u8> = (0..wn).map(|_| (r() * 255.0 + 128.0) as u8).collect();
            let z: Vec<u8> = (0..np).map(|j| 120 + (j % 7) as u8).collect();
            (v::<u8>(&wshape, &w), v::<u8>(pshape, &z))
        };
        let wz = if ci % 2 == 0 { wz } else { None };
        let ws: Vec<f32> = (0..np).map(|j| 0.002 + 1e-4 * j as f32).collect();
        let ws = v::<f32>(pshape, &ws);
        let b: Vec<f32> = (0..m).map(|_| r()).collect();
        let bv = v::<f32>(&[m as i64], &b);
        let xv = v::<f32>(&[1, c as i64, hw[0], hw[1]], &x);
        let sxv = v::<f32>(&[], &[sx]);
        let attrs = || {
            let mut a = vec![attr(
                "pads",
                AttrValue::Ints(vec![(window / 2) as i64; 4].into()),
            )];
            if let Some((name, params)) = &act {
                a.push(attr("activation", AttrValue::String((*name).into())));
                if !params.is_empty() {
                    a.push(attr(
                        "activation_params",
                        AttrValue::Floats(params.clone().into()),
                    ));
                }
            }
            a
        };
        // The reference: X through QuantizeLinear and DequantizeLinear, W
        // through DequantizeLinear, then FusedConv.
        let xq = run_node(
            "QuantizeLinear",
            13,
            &[xv.clone(), sxv.clone(), zxv.clone()],
            vec![],
            1,
        )
        .unwrap();
        let xd = run_node(
            "DequantizeLinear",
            13,
            &[xq[0].clone(), sxv.clone(), zxv.clone()],
            vec![],
            1,
        )
        .unwrap();
        let axis = vec![attr("axis", AttrValue::Int(0))];
        let wd = run_node(
            "DequantizeLinear",
            13,
            &[w.clone(), ws.clone(), wz.clone()],
            axis,
            1,
        )
        .unwrap();
        let ins = [xd[0].clone(), wd[0].clone(), bv.clone()];
        let want = run_node_in(fused, "FusedConv", 1, &ins, attrs(), 1).unwrap();
        let ins = [xv, sxv, zxv, w, ws, wz, bv];
        let consts: &[usize] = if constant { &[3, 4, 5] } else { &[] };
        let got =
            crate::testing::run_node_consts(fused, "QuantizedConv", 1, &ins, consts, attrs(), 1)
                .unwrap();
        let ((gs, gv), (ws, wv)) = (out_f32(&got, 0), out_f32(&want, 0));
        assert_eq!(gs, ws, "case {ci}");
        // Integer sums against float sums of c·window² terms: a quantized
        // output may land one step (0.05) away where the float sum sits at a tie.
        let far = gv
            .iter()
            .zip(&wv)
            .filter(|(g, w)| (*g - *w).abs() > 1e-4 * (1.0 + w.abs()))
            .inspect(|(g, w)| assert!((*g - *w).abs() <= 0.0501, "case {ci}: {g} vs {w}"))
            .count();
        assert!(far <= gv.len() / 100, "case {ci}: {far} values differ");
    }
}
