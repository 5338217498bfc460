//! SkipLayerNormalization against Add + Add(bias) + LayerNormalization run
//! through the same provider.

use ort_core::abi::AttrValue;
use ort_core::Value;

use crate::testing::{assert_close, attr, f32s, out_f32, run_node, run_node_in};

fn t(shape: &[i64], seed: usize) -> Option<Value> {
    let n = shape.iter().product::<i64>() as usize;
    let v: Vec<f32> = (0..n)
        .map(|i| ((i * 41 + seed * 7) % 97) as f32 / 20.0 - 2.4)
        .collect();
    f32s(shape, &v)
}

#[test]
fn skip_layernorm_matches_add_and_layernorm() {
    // Skip the same shape as X, and broadcast over the leading axes.
    // 256×512 is large enough to be split over the threads.
    let cases = [
        (1, 1, 1),
        (3, 17, 3),
        (5, 1023, 1),
        (64, 64, 64),
        (256, 512, 256),
    ];
    for &(rows, d, skip_rows) in &cases {
        let x = t(&[rows, d], 1);
        let skip = t(&[skip_rows, d], 2);
        let (scale, beta, bias) = (t(&[d], 3), t(&[d], 4), t(&[d], 5));
        let eps = || vec![attr("epsilon", AttrValue::Float(1e-3))];
        let s1 = run_node("Add", 14, &[x.clone(), skip.clone()], vec![], 1).unwrap();
        let sum = run_node("Add", 14, &[s1[0].clone(), bias.clone()], vec![], 1).unwrap();
        let mut ln_attrs = eps();
        ln_attrs.push(attr("axis", AttrValue::Int(-1)));
        let want = run_node(
            "LayerNormalization",
            17,
            &[sum[0].clone(), scale.clone(), beta.clone()],
            ln_attrs,
            1,
        )
        .unwrap();
        let inputs = [x, skip, scale, beta, bias];
        let fused = |outputs| {
            run_node_in(
                "ai.ort_rs.fused",
                "SkipLayerNormalization",
                1,
                &inputs,
                eps(),
                outputs,
            )
        };
        // With the Sum output, and without it (then summed in place per row).
        let got = fused(2).unwrap();
        let (ys, yv) = out_f32(&got, 0);
        assert_eq!(ys, vec![rows, d]);
        assert_close(&yv, &out_f32(&want, 0).1, 1e-5);
        assert_close(&out_f32(&got, 1).1, &out_f32(&sum, 0).1, 1e-6);
        let alone = fused(1).unwrap();
        assert_eq!(alone.len(), 1);
        assert_close(&out_f32(&alone, 0).1, &out_f32(&want, 0).1, 1e-5);
    }
}

#[test]
fn a_scale_of_the_wrong_length_is_an_error() {
    let e = run_node_in(
        "ai.ort_rs.fused",
        "SkipLayerNormalization",
        1,
        &[t(&[2, 4], 1), t(&[2, 4], 2), t(&[3], 3)],
        vec![],
        1,
    )
    .unwrap_err();
    assert!(e.message().contains("4 elements"), "{}", e.message());
}
