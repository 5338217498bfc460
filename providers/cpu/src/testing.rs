//! Runs one node through the provider in-process, for kernel unit tests.

use ort_core::abi::{AttrValue, Attribute, FusedNode, GraphView, NodeView, RString, RVec, Tuple2};
use ort_core::host::{with_host_services, HeapAllocator};
use ort_core::plugin::{Host, Options, Provider};
use ort_core::{Tensor, TypeInfo, Value};

use crate::kernel::Outputs;
use crate::CpuProvider;

/// An attribute for [`run_node`].
pub fn attr(name: &str, value: AttrValue<'static>) -> Attribute<'static> {
    Attribute {
        name: name.into(),
        value,
    }
}

/// Runs `op` (default domain, `opset`) on `inputs` (None = omitted optional input)
/// and returns its `num_outputs` outputs.
pub fn run_node(
    op: &str,
    opset: i64,
    inputs: &[Option<Value>],
    attrs: Vec<Attribute<'static>>,
    num_outputs: usize,
) -> Outputs {
    run_node_in("", op, opset, inputs, attrs, num_outputs)
}

/// As [`run_node`], for an op of `domain` (e.g. the fused-op domain).
pub fn run_node_in(
    domain: &str,
    op: &str,
    opset: i64,
    inputs: &[Option<Value>],
    attrs: Vec<Attribute<'static>>,
    num_outputs: usize,
) -> Outputs {
    run_node_consts(domain, op, opset, inputs, &[], attrs, num_outputs)
}

/// As [`run_node_in`], with the inputs at `consts` given as initializers, as
/// a session gives a model's weights (kernels may prepare them at build).
pub fn run_node_consts(
    domain: &str,
    op: &str,
    opset: i64,
    inputs: &[Option<Value>],
    consts: &[usize],
    attrs: Vec<Attribute<'static>>,
    num_outputs: usize,
) -> Outputs {
    let in_names: Vec<String> = (0..inputs.len())
        .map(|i| {
            if inputs[i].is_some() {
                format!("in{i}")
            } else {
                String::new()
            }
        })
        .collect();
    let out_names: Vec<String> = (0..num_outputs).map(|i| format!("out{i}")).collect();
    let values: RVec<Tuple2<RString, TypeInfo>> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v {
            Some(Value::Tensor(t)) => Some(Tuple2(
                RString::from(format!("in{i}")),
                TypeInfo::tensor(
                    t.elem(),
                    Some(t.shape().iter().map(|&d| ort_core::Dim::Known(d)).collect()),
                ),
            )),
            _ => None,
        })
        .collect();
    let node = NodeView {
        index: 0,
        name: "test".into(),
        op_type: op.into(),
        domain: domain.into(),
        opset,
        inputs: in_names.iter().map(|s| RString::from(s.as_str())).collect(),
        outputs: out_names
            .iter()
            .map(|s| RString::from(s.as_str()))
            .collect(),
        attributes: attrs.into(),
        assigned: RString::new(),
    };
    let graph = GraphView {
        name: "test".into(),
        nodes: vec![node].into(),
        inputs: in_names
            .iter()
            .enumerate()
            .filter(|(i, s)| !s.is_empty() && !consts.contains(i))
            .map(|(_, s)| RString::from(s.as_str()))
            .collect(),
        outputs: out_names
            .iter()
            .map(|s| RString::from(s.as_str()))
            .collect(),
        values,
        initializers: consts
            .iter()
            .filter_map(|&i| match &inputs[i] {
                Some(Value::Tensor(t)) => Some(Tuple2(RString::from(in_names[i].as_str()), t)),
                _ => None,
            })
            .collect(),
        outer_scope: RVec::new(),
    };
    let provider = CpuProvider::create(&Options(vec![("threads".into(), "2".into())]))?;
    let fused = FusedNode {
        name: "test".into(),
        graph: &graph,
        nodes: vec![0u32].into(),
        inputs: in_names
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| RString::from(s.as_str()))
            .collect(),
        outputs: graph.outputs.clone(),
    };
    let part = provider.compile(&fused)?;
    let ins: Vec<Option<&Value>> = inputs.iter().filter_map(|v| v.as_ref().map(Some)).collect();
    // Inside the run scope, as a session runs it: parallel loops go to the
    // spinning helpers.
    let mut result = None;
    provider.run_scope(&mut || {
        result = Some(with_host_services(&HeapAllocator, |services| {
            part.compute(&ins, &Host::new(services))
        }))
    });
    result.expect("run_scope runs its closure")
}

/// A float tensor value.
pub fn f32s(shape: &[i64], data: &[f32]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_vec(shape, data.to_vec()).unwrap(),
    ))
}

/// An int64 tensor value.
pub fn i64s(shape: &[i64], data: &[i64]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_vec(shape, data.to_vec()).unwrap(),
    ))
}

/// Output `i` as (shape, f32 data).
pub fn out_f32(outs: &[Option<Value>], i: usize) -> (Vec<i64>, Vec<f32>) {
    let t = outs[i].as_ref().unwrap().as_tensor().unwrap();
    (t.shape().to_vec(), t.to_vec::<f32>().unwrap())
}

/// Asserts two float slices agree within `tol` (absolute + relative).
/// Deterministic values in [-0.5, 0.5) from `seed` (a linear congruential
/// generator), for tests that want many operands without a crate.
pub fn noise(seed: u32) -> impl FnMut() -> f32 {
    let mut state = seed;
    move || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 9) as f32 / (1 << 23) as f32 - 0.5
    }
}

pub fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "length differs");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol + tol * w.abs(),
            "element {i}: got {g}, want {w}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_broadcasts() {
        let outs = run_node(
            "Add",
            14,
            &[f32s(&[2, 2], &[1., 2., 3., 4.]), f32s(&[2], &[10., 20.])],
            vec![],
            1,
        )
        .unwrap();
        assert_eq!(out_f32(&outs, 0), (vec![2, 2], vec![11., 22., 13., 24.]));
    }
}

/// The float32 matrix products, for benchmarks (`examples/gemm_bench.rs`): all
/// row-major, `c = a·b` with a m×k, b k×n.
pub mod gemm {
    use crate::ops::nn::blas::{self, Mat};
    use crate::ops::nn::sgemm::PackedB;

    /// Through the kernel the provider picks for these sizes and threads.
    pub fn picked(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        threads: usize,
    ) {
        let (a, b) = (Mat::rows(a, k), Mat::rows(b, n));
        blas::gemm((m, n, k), a, b, c, n, 1.0, false, threads);
    }

    /// Through the `gemm` crate alone: what the provider would be without its
    /// own kernel.
    pub fn crate_only(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        threads: usize,
    ) {
        let par = if threads > 1 {
            ::gemm::Parallelism::Rayon(threads)
        } else {
            ::gemm::Parallelism::None
        };
        assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
        // SAFETY: the operands hold m·k, k·n and m·n values (asserted), row-major
        // with the strides given; c does not alias a or b (it is borrowed mutably).
        unsafe {
            ::gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                k as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                par,
            )
        }
    }

    /// B packed ahead, as the provider packs constant weights.
    pub struct Packed(PackedB);

    /// Packs b for [`prepacked`]; None where the CPU has no AVX-512.
    pub fn pack(b: &[f32], k: usize, n: usize) -> Option<Packed> {
        let t = ort_core::Tensor::from_vec(&[k as i64, n as i64], b.to_vec()).ok()?;
        blas::prepack_b(&t, false).map(Packed)
    }

    /// With B packed by [`pack`]; false if the product is too thin for it.
    pub fn prepacked(m: usize, a: &[f32], b: &Packed, c: &mut [f32], threads: usize) -> bool {
        let (k, n) = b.0.dims();
        blas::gemm_prepacked((m, n, k), Mat::rows(a, k), &b.0, c, n, 1.0, false, threads)
    }

    /// The measured single-core float32 FMA peak in GFLOP/s: independent FMA
    /// chains on the widest vectors the CPU has, long enough to time.
    pub fn fma_peak() -> f64 {
        #[cfg(target_arch = "x86_64")]
        {
            let run = |iters: u64| {
                let t = std::time::Instant::now();
                let flops = if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked).
                    std::hint::black_box(unsafe { chains_avx512(iters) });
                    iters as f64 * 12.0 * 16.0 * 2.0
                } else if std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has AVX and FMA (checked).
                    std::hint::black_box(unsafe { chains_avx2(iters) });
                    iters as f64 * 12.0 * 8.0 * 2.0
                } else {
                    return 0.0;
                };
                flops / t.elapsed().as_secs_f64() / 1e9
            };
            run(1 << 20);
            (0..5).map(|_| run(1 << 24)).fold(0.0, f64::max)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            0.0
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn chains_avx512(iters: u64) -> f32 {
        use std::arch::x86_64::*;
        let (x, y) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); 12];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, x, y);
            }
        }
        acc.iter().map(|&a| _mm512_reduce_add_ps(a)).sum()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn chains_avx2(iters: u64) -> f32 {
        use std::arch::x86_64::*;
        let (x, y) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); 12];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, x, y);
            }
        }
        let mut s = [0f32; 8];
        acc.iter().for_each(|&a| {
            let mut v = [0f32; 8];
            // SAFETY: v holds 8 floats.
            unsafe { _mm256_storeu_ps(v.as_mut_ptr(), a) };
            s.iter_mut().zip(v).for_each(|(s, v)| *s += v);
        });
        s.iter().sum()
    }
}
