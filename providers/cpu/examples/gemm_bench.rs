//! Float32 GEMM throughput on one thread: the provider's pick (its AVX-512 kernel
//! or the `gemm` crate), the same with B packed ahead (constant weights), and the
//! `gemm` crate alone, as GFLOP/s and as a share of the measured FMA peak.
//! Square problems (256–1024), transformer-shaped ones (M = 64, 128) and
//! convolution-shaped ones.
//!
//! `cargo run --release -p ort-provider-cpu --example gemm_bench` (or `cargo xtask bench`).

use std::time::Instant;

use ort_provider_cpu::testing::gemm;

/// Median seconds of `f` over runs filling about a quarter second.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    f();
    let once = t.elapsed().as_secs_f64().max(1e-6);
    let runs = ((0.25 / once) as usize).clamp(5, 2000);
    let mut v: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let peak = gemm::fma_peak();
    println!("measured FMA peak, one core: {peak:.1} GFLOP/s");
    println!();
    println!("| m | n | k | provider GFLOP/s | % peak | B prepacked GFLOP/s | % peak | gemm crate GFLOP/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let shapes = [
        (256, 256, 256),
        (512, 512, 512),
        (1024, 1024, 1024),
        (64, 768, 768),
        (64, 3072, 768),
        (64, 768, 3072),
        (128, 768, 768),
        (128, 3072, 768),
        (128, 768, 3072),
        // bert_small's projections and feed-forward (hidden 256, seq 128).
        (128, 256, 256),
        (128, 512, 256),
        (128, 256, 512),
        // ResNet-18's 3×3 convolutions as conv_shift runs them (n = wide rows).
        (64, 3248, 576),
        (128, 840, 1152),
        (256, 224, 2304),
        (512, 63, 4608),
    ];
    for (m, n, k) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 17) as f32 / 17.0 - 0.5).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 13) as f32 / 13.0 - 0.5).collect();
        let mut c = vec![0f32; m * n];
        let flops = 2.0 * (m * n * k) as f64;
        let rate = |s: f64| flops / s / 1e9;
        let picked = rate(time(|| gemm::picked(m, n, k, &a, &b, &mut c, 1)));
        let packed = gemm::pack(&b, k, n).map(|p| {
            rate(time(|| {
                assert!(gemm::prepacked(m, &a, &p, &mut c, 1));
            }))
        });
        let krate = rate(time(|| gemm::crate_only(m, n, k, &a, &b, &mut c, 1)));
        let pct = |g: f64| {
            if peak > 0.0 {
                format!("{:.0}%", 100.0 * g / peak)
            } else {
                "-".into()
            }
        };
        let (pk, pkp) = match packed {
            Some(g) => (format!("{g:.1}"), pct(g)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {m} | {n} | {k} | {picked:.1} | {} | {pk} | {pkp} | {krate:.1} |",
            pct(picked)
        );
    }
}
