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
