//! QuantizeDequantize against QuantizeLinear then DequantizeLinear run through the
//! same provider (themselves checked against onnxruntime's values): bit-equal.

use ort_core::{Element, Tensor, Value};

use crate::testing::{out_f32, run_node, run_node_in};

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
