//! MatMul and Gemm: shapes, broadcasting, transposes, and large products against a naive loop.

#![allow(clippy::excessive_precision, clippy::type_complexity)]

use super::*;

fn naive_matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut c = vec![0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    c
}

#[test]
fn matmul_large_matches_naive() {
    // Batched with a batch per call, and B shared across a folded batch.
    let (a, b) = (seq_data(4 * 70 * 90, 1), seq_data(4 * 90 * 80, 2));
    let t = |s: &[i64], v: &[f32]| Some(Value::from(Tensor::from_vec(s, v.to_vec()).unwrap()));
    let outs = run_node(
        "MatMul",
        13,
        &[t(&[4, 70, 90], &a), t(&[4, 90, 80], &b)],
        vec![],
        1,
    )
    .unwrap();
    let want: Vec<f32> = (0..4)
        .flat_map(|i| naive_matmul(&a[i * 6300..][..6300], &b[i * 7200..][..7200], 70, 90, 80))
        .collect();
    assert_close(&out_f32(&outs, 0).1, &want, 1e-4);
    let b = seq_data(90 * 120, 3);
    let outs = run_node(
        "MatMul",
        13,
        &[t(&[2, 140, 90], &a[..2 * 140 * 90]), t(&[90, 120], &b)],
        vec![],
        1,
    )
    .unwrap();
    assert_close(
        &out_f32(&outs, 0).1,
        &naive_matmul(&a[..2 * 140 * 90], &b, 280, 90, 120),
        1e-4,
    );
    // Gemm with both operands transposed.
    let (at, bt) = (seq_data(90 * 130, 4), seq_data(110 * 90, 5));
    let tr = |v: &[f32], r: usize, c: usize| {
        (0..c * r)
            .map(|i| v[(i % r) * c + i / r])
            .collect::<Vec<_>>()
    };
    let want = naive_matmul(&tr(&at, 90, 130), &tr(&bt, 110, 90), 130, 90, 110);
    let attrs = vec![int("transA", 1), int("transB", 1)];
    let outs = run_node(
        "Gemm",
        13,
        &[t(&[90, 130], &at), t(&[110, 90], &bt)],
        attrs,
        1,
    )
    .unwrap();
    assert_close(&out_f32(&outs, 0).1, &want, 1e-4);
}

#[test]
fn matmul_2d() {
    check(
        "MatMul",
        13,
        &[seq(&[3, 5], 1), seq(&[5, 4], 2)],
        vec![],
        &[(
            &[3, 4],
            &[
                10.6875, -5.78125, -8.9882812, 11.296875, -6.8984375, -8.7109375, 17.515625,
                -6.2734375, -4.0234375, 8.8203125, -9.0273438, -3.3828125,
            ],
        )],
    );
}

#[test]
fn matmul_1d_left() {
    check(
        "MatMul",
        13,
        &[seq(&[5], 1), seq(&[2, 5, 3], 2)],
        vec![],
        &[(
            &[2, 3],
            &[
                3.0546875, -1.6679688, -6.390625, 4.5859375, 1.3789062, -3.34375,
            ],
        )],
    );
}

#[test]
fn matmul_1d_right() {
    check(
        "MatMul",
        13,
        &[seq(&[2, 4, 5], 1), seq(&[5], 2)],
        vec![],
        &[(
            &[2, 4],
            &[
                9.765625, -9.3671875, -5.0078125, -5.953125, -1.59375, 9.5859375, -9.546875,
                -5.1875,
            ],
        )],
    );
}

#[test]
fn matmul_1d_both() {
    check(
        "MatMul",
        13,
        &[seq(&[5], 1), seq(&[5], 2)],
        vec![],
        &[(&[], &[9.765625])],
    );
}

#[test]
fn matmul_broadcast() {
    check(
        "MatMul",
        13,
        &[seq(&[2, 1, 3, 4], 1), seq(&[3, 4, 2], 2)],
        vec![],
        &[(
            &[2, 3, 3, 2],
            &[
                6.2773438, 2.0390625, 3.9882812, -9.1484375, -11.5625, 3.15625, -12.851562,
                7.9179688, 3.4726562, 5.1132812, 6.5351562, -10.953125, 4.7734375, -11.210938,
                -7.2734375, 4.5976562, 4.171875, 7.1445312, -3.6210938, 2.1992188, 7.3515625,
                4.2734375, 5.0625, -6.9140625, -3.6640625, -3.5273438, -10.832031, 6.9296875,
                5.4921875, 4.125, 2.3554688, -3.5703125, 3.5703125, -11.253906, -8.4765625,
                4.5546875,
            ],
        )],
    );
}

#[test]
fn matmul_shared_b() {
    check(
        "MatMul",
        13,
        &[seq(&[2, 3, 4], 1), seq(&[4, 5], 2)],
        vec![],
        &[(
            &[2, 3, 5],
            &[
                6.9492188,
                2.7109375,
                -13.273438,
                7.4960938,
                3.2578125,
                5.1601562,
                -7.9765625,
                3.8945312,
                5.5351562,
                -7.6015625,
                -11.40625,
                3.3125,
                6.2851562,
                -11.203125,
                3.515625,
                -5.9960938,
                -0.17578125,
                -6.1015625,
                -5.9648438,
                -0.14453125,
                6.9921875,
                3.9140625,
                -10.910156,
                6.8515625,
                3.7734375,
                5.203125,
                -6.7734375,
                6.2578125,
                4.890625,
                -7.0859375,
            ],
        )],
    );
}

#[test]
fn matmul_shared_a() {
    check(
        "MatMul",
        13,
        &[seq(&[3, 4], 1), seq(&[2, 4, 5], 2)],
        vec![],
        &[(
            &[2, 3, 5],
            &[
                6.9492188, 2.7109375, -13.273438, 7.4960938, 3.2578125, 5.1601562, -7.9765625,
                3.8945312, 5.5351562, -7.6015625, -11.40625, 3.3125, 6.2851562, -11.203125,
                3.515625, 1.7539062, -2.484375, 6.5390625, 2.3007812, -1.9375, -8.6328125,
                4.7539062, 4.8789062, -8.2578125, 5.1289062, 2.9570312, -2.7851562, -11.558594,
                3.1601562, -2.5820312,
            ],
        )],
    );
}

#[test]
fn gemm_vector_times_matrix_splits_columns() {
    // M = 1 and enough work for the column split over both threads.
    let (k, n) = (600usize, 300usize);
    let (a, b) = (seq_data(k, 1), seq_data(k * n, 2));
    let want: Vec<f32> = (0..n)
        .map(|j| {
            (0..k)
                .map(|p| a[p] as f64 * b[p * n + j] as f64)
                .sum::<f64>() as f32
        })
        .collect();
    let out = run_node(
        "Gemm",
        13,
        &[seq(&[1, k as i64], 1), seq(&[k as i64, n as i64], 2)],
        vec![],
        1,
    )
    .unwrap();
    let (shape, got) = out_f32(&out, 0);
    assert_eq!(shape, [1, n as i64]);
    assert_close(&got, &want, 1e-3);
}

#[test]
fn gemm_trans_alpha_beta() {
    check(
        "Gemm",
        13,
        &[seq(&[4, 3], 1), seq(&[5, 4], 2), seq(&[5], 3)],
        vec![
            int("transA", 1),
            int("transB", 1),
            float("alpha", 0.5),
            float("beta", 2.0),
        ],
        &[(
            &[3, 5],
            &[
                -2.0839844, 1.375, -8.0488281, 2.0410156, 5.5, -0.0859375, 4.0390625, -4.71875,
                0.1640625, 4.2890625, 1.9121094, 6.703125, -1.3886719, -1.7128906, 3.078125,
            ],
        )],
    );
}

#[test]
fn gemm_c_column() {
    check(
        "Gemm",
        13,
        &[seq(&[3, 4], 1), seq(&[4, 5], 2), seq(&[3, 1], 3)],
        vec![float("alpha", 1.5)],
        &[(
            &[3, 5],
            &[
                10.611328, 4.2539062, -19.722656, 11.431641, 5.0742188, 9.8652344, -9.8398438,
                7.9667969, 10.427734, -9.2773438, -19.109375, 2.96875, 7.4277344, -18.804688,
                3.2734375,
            ],
        )],
    );
}

#[test]
fn gemm_c_scalar() {
    check(
        "Gemm",
        11,
        &[seq(&[3, 4], 1), seq(&[4, 2], 2), seq(&[], 3)],
        vec![float("beta", -1.0)],
        &[(
            &[3, 2],
            &[6.0898438, 1.8515625, 3.8007812, -9.3359375, -11.75, 2.96875],
        )],
    );
}

#[test]
fn gemm_no_c() {
    check(
        "Gemm",
        13,
        &[seq(&[2, 3], 1), seq(&[3, 4], 2)],
        vec![int("transB", 0)],
        &[(
            &[2, 4],
            &[
                6.5390625, -5.2070312, -5.2070312, 6.5390625, 5.9296875, -5.7539062, -5.6914062,
                6.1171875,
            ],
        )],
    );
}
