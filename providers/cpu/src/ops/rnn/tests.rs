//! RNN, GRU and LSTM cases checked against onnxruntime 1.31 outputs on the same inputs.

use ort_core::abi::AttrValue::{self, *};
use ort_core::{Tensor, Value};

use crate::testing::{assert_close, attr, run_node};

// Expected values come from onnxruntime 1.31 on the same inputs (built by `gen`).
fn gen(shape: &[i64], k: usize) -> Option<Value> {
    let n = shape.iter().product::<i64>() as usize;
    let v = (0..n)
        .map(|i| (((i * k + 3) % 23) as f64 / 23.0 - 0.5) as f32)
        .collect();
    Some(Value::Tensor(Tensor::from_vec(shape, v).unwrap()))
}

fn lens(v: &[i32]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_vec(&[v.len() as i64], v.to_vec()).unwrap(),
    ))
}

fn s(v: &str) -> AttrValue<'static> {
    String(v.as_bytes().to_vec().into())
}

fn check(outs: &[Option<Value>], shapes: &[&[i64]], want: &[&[f32]]) {
    for (i, (shape, want)) in shapes.iter().zip(want).enumerate() {
        let t = outs[i].as_ref().unwrap().as_tensor().unwrap();
        assert_eq!(t.shape(), *shape, "output {i}");
        assert_close(t.as_slice::<f32>().unwrap(), want, 2e-5);
    }
}

#[test]
fn lstm_bidirectional_sequence_lens() {
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[2, 12, 2], 7),
        gen(&[2, 12, 3], 11),
        gen(&[2, 24], 13),
        lens(&[3, 1]),
        gen(&[2, 2, 3], 17),
        gen(&[2, 2, 3], 19),
        gen(&[2, 9], 3),
    ];
    let outs = run_node(
        "LSTM",
        14,
        &ins,
        vec![
            attr("hidden_size", Int(3)),
            attr("direction", s("bidirectional")),
        ],
        3,
    )
    .unwrap();
    check(
        &outs,
        &[&[3, 2, 2, 3], &[2, 2, 3], &[2, 2, 3]],
        &[
            &[
                -0.297073, 0.155635, -0.0711114, -0.130683, 0.0186063, -0.186503, 0.066996,
                -0.16273, 0.224441, 0.0774867, -0.114243, 0.113923, -0.321641, 0.151244, -0.201134,
                0.0, 0.0, 0.0, 0.0663957, -0.111172, 0.213229, 0.0, 0.0, 0.0, -0.372048, 0.122811,
                -0.184126, 0.0, 0.0, 0.0, 0.0473039, 0.0488687, 0.191454, 0.0, 0.0, 0.0,
            ],
            &[
                -0.372048, 0.122811, -0.184126, -0.130683, 0.0186063, -0.186503, 0.066996,
                -0.16273, 0.224441, 0.0774867, -0.114243, 0.113923,
            ],
            &[
                -0.604371, 0.391788, -0.287253, -0.242815, 0.0415115, -0.320476, 0.154387,
                -0.280578, 0.467813, 0.193758, -0.181309, 0.230683,
            ],
        ],
    );
}

#[test]
fn lstm_empty_sequence_reports_zero_state() {
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[2, 12, 2], 7),
        gen(&[2, 12, 3], 11),
        gen(&[2, 24], 13),
        lens(&[2, 0]),
        gen(&[2, 2, 3], 17),
        gen(&[2, 2, 3], 19),
        gen(&[2, 9], 3),
    ];
    let outs = run_node(
        "LSTM",
        14,
        &ins,
        vec![
            attr("hidden_size", Int(3)),
            attr("direction", s("bidirectional")),
        ],
        3,
    )
    .unwrap();
    check(
        &outs,
        &[&[3, 2, 2, 3], &[2, 2, 3], &[2, 2, 3]],
        &[
            &[
                -0.297073,
                0.155635,
                -0.0711114,
                0.0,
                0.0,
                0.0,
                0.0219224,
                -0.117072,
                0.229531,
                0.0,
                0.0,
                0.0,
                -0.321641,
                0.151244,
                -0.201134,
                0.0,
                0.0,
                0.0,
                -0.0305362,
                -0.000793059,
                0.244801,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
            ],
            &[
                -0.321641, 0.151244, -0.201134, 0.0, 0.0, 0.0, 0.0219224, -0.117072, 0.229531, 0.0,
                0.0, 0.0,
            ],
            &[
                -0.615259, 0.475629, -0.290681, 0.0, 0.0, 0.0, 0.0522763, -0.194426, 0.493056, 0.0,
                0.0, 0.0,
            ],
        ],
    );
}

#[test]
fn lstm_layout1_clip_input_forget() {
    // ONNX Runtime has no layout=1; the reference is its layout-0 result transposed.
    let x = gen(&[3, 2, 2], 5)
        .unwrap()
        .into_tensor()
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let xl: Vec<f32> = (0..12)
        .map(|i| x[((i / 2) % 3 * 2 + i / 6) * 2 + i % 2])
        .collect();
    let xl = Some(Value::Tensor(Tensor::from_vec(&[2, 3, 2], xl).unwrap()));
    let ins = [xl, gen(&[1, 12, 2], 7), gen(&[1, 12, 3], 11)];
    let attrs = vec![
        attr("hidden_size", Int(3)),
        attr("layout", Int(1)),
        attr("clip", Float(0.3)),
        attr("input_forget", Int(1)),
    ];
    let outs = run_node("LSTM", 14, &ins, attrs, 3).unwrap();
    check(
        &outs,
        &[&[2, 3, 1, 3], &[2, 1, 3], &[2, 1, 3]],
        &[
            &[
                -0.0256965,
                0.0239376,
                -0.0173137,
                -0.0495048,
                0.0451503,
                -0.0304247,
                -0.0568604,
                -0.00340948,
                0.0384654,
                0.029537,
                -0.00305496,
                -0.0207879,
                0.0272257,
                0.00363924,
                -0.0289122,
                0.0104433,
                0.0160213,
                -0.0332695,
            ],
            &[
                -0.0568604,
                -0.00340948,
                0.0384654,
                0.0104433,
                0.0160213,
                -0.0332695,
            ],
            &[
                -0.0996218,
                -0.00742524,
                0.0803826,
                0.0218925,
                0.0321282,
                -0.0645052,
            ],
        ],
    );
}

#[test]
fn lstm_reverse_custom_activations() {
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[1, 12, 2], 7),
        gen(&[1, 12, 3], 11),
        gen(&[1, 24], 13),
    ];
    let attrs = vec![
        attr("hidden_size", Int(3)),
        attr("direction", s("reverse")),
        attr(
            "activations",
            Strings(
                ["HardSigmoid", "LeakyRelu", "Softsign"]
                    .map(|a| a.as_bytes().to_vec().into())
                    .to_vec()
                    .into(),
            ),
        ),
        attr("activation_alpha", Floats(vec![0.3, 0.2].into())),
        attr("activation_beta", Floats(vec![0.4].into())),
    ];
    let outs = run_node("LSTM", 7, &ins, attrs, 2).unwrap();
    check(
        &outs,
        &[&[3, 1, 2, 3], &[1, 2, 3]],
        &[
            &[
                -0.0519368,
                0.0567295,
                -0.024759,
                -0.0375655,
                0.0576677,
                -0.0232653,
                -0.04929,
                0.0476633,
                -0.0185858,
                -0.0389638,
                0.0529259,
                -0.0212244,
                -0.039641,
                0.0257519,
                -0.00441514,
                -0.0324277,
                0.0400586,
                -0.014645,
            ],
            &[
                -0.0519368, 0.0567295, -0.024759, -0.0375655, 0.0576677, -0.0232653,
            ],
        ],
    );
}

#[test]
fn gru_bidirectional_linear_before_reset_0() {
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[2, 9, 2], 7),
        gen(&[2, 9, 3], 11),
        gen(&[2, 18], 13),
        lens(&[3, 1]),
        gen(&[2, 2, 3], 17),
    ];
    let attrs = vec![
        attr("hidden_size", Int(3)),
        attr("direction", s("bidirectional")),
        attr("linear_before_reset", Int(0)),
    ];
    let outs = run_node("GRU", 14, &ins, attrs, 2).unwrap();
    check(
        &outs,
        &[&[3, 2, 2, 3], &[2, 2, 3]],
        &[
            &[
                -0.151959, -0.0370278, 0.305338, 0.0220836, -0.493688, 0.350993, 0.527189,
                -0.330829, 0.471048, 0.372149, -0.113388, 0.239669, 0.0179056, -0.267307, 0.466644,
                0.0, 0.0, 0.0, 0.441895, -0.246176, 0.322569, 0.0, 0.0, 0.0, 0.332512, -0.40594,
                0.394437, 0.0, 0.0, 0.0, 0.234873, -0.150607, 0.0354023, 0.0, 0.0, 0.0,
            ],
            &[
                0.332512, -0.40594, 0.394437, 0.0220836, -0.493688, 0.350993, 0.527189, -0.330829,
                0.471048, 0.372149, -0.113388, 0.239669,
            ],
        ],
    );
}

#[test]
fn gru_bidirectional_linear_before_reset_1() {
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[2, 9, 2], 7),
        gen(&[2, 9, 3], 11),
        gen(&[2, 18], 13),
        lens(&[3, 1]),
        gen(&[2, 2, 3], 17),
    ];
    let attrs = vec![
        attr("hidden_size", Int(3)),
        attr("direction", s("bidirectional")),
        attr("linear_before_reset", Int(1)),
    ];
    let outs = run_node("GRU", 14, &ins, attrs, 2).unwrap();
    check(
        &outs,
        &[&[3, 2, 2, 3], &[2, 2, 3]],
        &[
            &[
                -0.187815, 0.016123, 0.251915, 0.0095738, -0.459754, 0.283799, 0.332424, -0.292998,
                0.279376, 0.280576, -0.0980757, 0.153053, -0.0306748, -0.187562, 0.397509, 0.0,
                0.0, 0.0, 0.274904, -0.201156, 0.159791, 0.0, 0.0, 0.0, 0.300927, -0.324661,
                0.280088, 0.0, 0.0, 0.0, 0.119631, -0.114689, -0.0710992, 0.0, 0.0, 0.0,
            ],
            &[
                0.300927, -0.324661, 0.280088, 0.0095738, -0.459754, 0.283799, 0.332424, -0.292998,
                0.279376, 0.280576, -0.0980757, 0.153053,
            ],
        ],
    );
}

#[test]
fn rnn_bidirectional() {
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[2, 3, 2], 7),
        gen(&[2, 3, 3], 11),
        gen(&[2, 6], 13),
        None,
        gen(&[2, 2, 3], 17),
    ];
    let outs = run_node(
        "RNN",
        14,
        &ins,
        vec![
            attr("hidden_size", Int(3)),
            attr("direction", s("bidirectional")),
        ],
        2,
    )
    .unwrap();
    check(
        &outs,
        &[&[3, 2, 2, 3], &[2, 2, 3]],
        &[
            &[
                0.230651, -0.121793, 0.443712, -0.206351, 0.15793, 0.449764, -0.439569, -0.316876,
                0.129542, -0.331832, -0.113855, -0.0124271, -0.121414, 0.174882, 0.327798,
                -0.12105, -0.0737541, 0.504662, -0.502331, -0.244296, 0.0952904, -0.344822,
                -0.157566, 0.0332592, -0.220931, 0.275924, 0.295745, -0.143325, 0.0668924,
                0.495248, -0.02882, -0.339891, -0.0702997, -0.326448, -0.111538, 0.0712402,
            ],
            &[
                -0.220931, 0.275924, 0.295745, -0.143325, 0.0668924, 0.495248, -0.439569,
                -0.316876, 0.129542, -0.331832, -0.113855, -0.0124271,
            ],
        ],
    );
}

#[test]
fn rnn_relu_clip_infers_hidden_size() {
    let ins = [gen(&[3, 2, 2], 5), gen(&[1, 3, 2], 7), gen(&[1, 3, 3], 11)];
    let attrs = vec![
        attr("activations", Strings(vec![b"Relu".to_vec().into()].into())),
        attr("clip", Float(0.2)),
    ];
    let outs = run_node("RNN", 14, &ins, attrs, 2).unwrap();
    check(
        &outs,
        &[&[3, 1, 2, 3], &[1, 2, 3]],
        &[
            &[
                0.146503,
                0.0,
                0.0330813,
                0.0,
                0.0,
                0.0330813,
                0.135407,
                0.0197255,
                0.0,
                0.000513687,
                0.0,
                0.0481836,
                0.0,
                0.2,
                0.0,
                0.0507967,
                0.0,
                0.0548213,
            ],
            &[0.0, 0.2, 0.0, 0.0507967, 0.0, 0.0548213],
        ],
    );
}

#[test]
fn bad_shapes_are_errors() {
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[1, 12, 2], 7),
        gen(&[1, 12, 4], 11),
    ];
    assert!(run_node("LSTM", 14, &ins, vec![attr("hidden_size", Int(3))], 3).is_err());
    let ins = [
        gen(&[3, 2, 2], 5),
        gen(&[1, 9, 2], 7),
        gen(&[1, 9, 3], 11),
        None,
        lens(&[4, 1]),
    ];
    assert!(run_node("GRU", 14, &ins, vec![], 2).is_err());
    let ins = [gen(&[3, 2, 2], 5), gen(&[1, 3, 2], 7), gen(&[1, 3, 3], 11)];
    let bad = vec![attr(
        "activations",
        Strings(vec![b"Gelu".to_vec().into()].into()),
    )];
    assert!(run_node("RNN", 14, &ins, bad, 2).is_err());
}
