//! B of the integer GEMM from float activations: every value is quantized as
//! QuantizeLinear quantizes it and packed into [`PackedB`]'s panels with its
//! column sums. A DequantizeLinear output comes back as exactly the levels it was
//! made from, so an integer convolution can read activations that the graph
//! keeps as floats.

use super::loops::Qdq;
use super::qgemm::{Layout, PackedB, GROUP, NR};
use crate::ops::nn::simd_fn;
use crate::parallel::for_each_chunk_pair;

/// Values (k·n) from which the panels are spread over threads.
const PAR_MIN: usize = 1 << 15;

/// `x` is K×N (a plane of N values per input channel). `q` is the quantizer,
/// its levels those of an 8-bit type; `shift` (128 for uint8, else 0) is
/// subtracted from each level so that it is stored as an i8. Panels are
/// spread over `threads` when there are enough values; their bytes are in
/// `layout`, that of the A they will meet.
pub(crate) fn pack_levels(
    x: &[f32],
    (k, n): (usize, usize),
    q: Qdq<f32>,
    shift: i32,
    layout: Layout,
    threads: usize,
) -> PackedB {
    assert!(x.len() >= k * n);
    let groups = k.div_ceil(4);
    let panels = n.div_ceil(NR);
    let mut data = vec![0i8; panels * groups * GROUP];
    let mut col_sums = vec![0i32; n];
    let threads = if k * n >= PAR_MIN { threads } else { 1 };
    let src = Planes {
        x,
        k,
        n,
        q,
        shift,
        layout,
    };
    // With no rows the panels are empty and the sums zero.
    if k > 0 {
        let pair = (&mut data[..], groups * GROUP);
        for_each_chunk_pair(threads, pair, (&mut col_sums[..], NR), |p, panel, sums| {
            if q.product {
                panel_levels(&src, p * NR, panel, sums);
            } else {
                panel_levels_by_division(&src, p * NR, panel, sums);
            }
        });
    }
    PackedB {
        layout,
        k,
        n,
        groups,
        data,
        col_sums,
        shift,
    }
}

/// What is packed: K×N values, their quantizer and the shift of its levels.
#[derive(Clone, Copy)]
struct Planes<'a> {
    x: &'a [f32],
    k: usize,
    n: usize,
    q: Qdq<f32>,
    shift: i32,
    layout: Layout,
}

/// One panel (columns `j0..j0 + sums.len()`), with the product form.
fn panel_levels(src: &Planes<'_>, j0: usize, panel: &mut [i8], sums: &mut [i32]) {
    let (Planes { x, k, n, .. }, cols) = (*src, sums.len());
    assert!(
        cols <= NR && x.len() >= (k - 1) * n + j0 + cols && panel.len() >= k.div_ceil(4) * GROUP
    );
    #[cfg(target_arch = "x86_64")]
    if src.layout == Layout::Quads && std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above); the assert bounds
        // the rows read and the panel written.
        return unsafe { panel_levels_avx512(src, j0, panel, sums) };
    }
    panel_levels_portable(src, j0, panel, sums)
}

/// 16 columns at a time: four rows' levels, shifted, as the bytes of one
/// register of dwords.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn panel_levels_avx512(src: &Planes<'_>, j0: usize, panel: &mut [i8], sums: &mut [i32]) {
    use std::arch::x86_64::*;
    let (
        Planes {
            x, k, n, q, shift, ..
        },
        cols,
    ) = (*src, sums.len());
    let (byte, shift) = (_mm512_set1_epi32(0xff), _mm512_set1_epi32(shift));
    for h in 0..cols.div_ceil(16) {
        let c = (cols - 16 * h).min(16);
        let mask = ((1u32 << c) - 1) as __mmask16;
        let mut sum = _mm512_setzero_si512();
        for g in 0..k.div_ceil(4) {
            let mut d = _mm512_setzero_si512();
            for t in 0..4.min(k - 4 * g) {
                // SAFETY: row 4g + t < k and its columns j0 + 16h.. (c of them,
                // the rest masked off) lie in `x` (asserted by the caller).
                let v = unsafe {
                    let p = x.as_ptr().add((4 * g + t) * n + j0 + 16 * h);
                    if c == 16 {
                        _mm512_loadu_ps(p)
                    } else {
                        _mm512_maskz_loadu_ps(mask, p)
                    }
                };
                let l = _mm512_maskz_sub_epi32(mask, q.levels(v), shift);
                sum = _mm512_add_epi32(sum, l);
                let b = _mm512_and_si512(l, byte);
                d = _mm512_or_si512(d, _mm512_sllv_epi32(b, _mm512_set1_epi32(8 * t as i32)));
            }
            // SAFETY: group g's 128 bytes lie in the panel; this half is its
            // bytes 64h..64h + 64.
            unsafe {
                _mm512_storeu_si512(
                    panel.as_mut_ptr().add(g * GROUP + 64 * h) as *mut __m512i,
                    d,
                )
            };
        }
        // SAFETY: `c` sums from 16h on lie in `sums`.
        unsafe { _mm512_mask_storeu_epi32(sums.as_mut_ptr().add(16 * h), mask, sum) };
    }
}

simd_fn! {
    fn panel_levels_portable[](src: &Planes<'_>, j0: usize, panel: &mut [i8], sums: &mut [i32]) {
        let (Planes { x, k, n, q, shift, layout }, cols) = (*src, sums.len());
        let mut acc = [0i32; NR];
        for (g, out) in panel.chunks_exact_mut(GROUP).enumerate() {
            let mut bytes = [[0i8; NR]; 4];
            for (t, bytes) in bytes.iter_mut().enumerate().take(4.min(k - 4 * g)) {
                let row = &x[(4 * g + t) * n + j0..][..cols];
                for ((b, a), &v) in bytes.iter_mut().zip(&mut acc).zip(row) {
                    // SAFETY: a level is an integer within the 8-bit type's range.
                    let l = unsafe { q.level_by_product(v).to_int_unchecked::<i32>() } - shift;
                    *a += l;
                    *b = l as i8;
                }
            }
            match layout {
                Layout::Quads => {
                    for (j, o) in out.chunks_exact_mut(4).enumerate() {
                        for (t, o) in o.iter_mut().enumerate() {
                            *o = bytes[t][j];
                        }
                    }
                }
                Layout::Pairs => {
                    for (h, half) in out.chunks_exact_mut(64).enumerate() {
                        for (j, o) in half.chunks_exact_mut(2).enumerate() {
                            o[0] = bytes[2 * h][j];
                            o[1] = bytes[2 * h + 1][j];
                        }
                    }
                }
            }
        }
        sums.copy_from_slice(&acc[..cols]);
    }
}

/// The same, for scales whose reciprocal is not exact enough (`q.product` false).
fn panel_levels_by_division(src: &Planes<'_>, j0: usize, panel: &mut [i8], sums: &mut [i32]) {
    let Planes {
        x,
        k,
        n,
        q,
        shift,
        layout,
    } = *src;
    for (j, sum) in sums.iter_mut().enumerate() {
        for kk in 0..k {
            let l = q.level_by_division(x[kk * n + j0 + j]) as i32 - shift;
            *sum += l;
            panel[(kk / 4) * GROUP + layout.at(kk % 4, j)] = l as i8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::quant::qgemm::{qgemm, PackedB};

    #[test]
    fn packed_levels_equal_packing_the_quantized_values() {
        // Values on the grid of (scale, zp), off it, and past both ends; both
        // forms of the quantizer; uint8 and int8 ranges; tails of k and n.
        for (scale, zp, lo, hi, shift) in [
            (0.05f32, 121.0f32, 0.0f32, 255.0f32, 128),
            (0.0123, -3.0, -128.0, 127.0, 0),
            (1e-39, 7.0, 0.0, 255.0, 128),
        ] {
            let q = Qdq::new(scale, zp, lo, hi);
            let (k, n) = (7, 45);
            let x: Vec<f32> = (0..k * n)
                .map(|i| {
                    ((i * 37 % 301) as f32 - 150.0) * scale * if i % 3 == 0 { 1.3 } else { 1.0 }
                })
                .collect();
            let levels: Vec<i32> = x.iter().map(|&v| q.level_by_division(v) as i32).collect();
            for layout in [Layout::Quads, Layout::Pairs] {
                let got = pack_levels(&x, (k, n), q, shift, layout, 2);
                let want = if shift == 128 {
                    let l: Vec<u8> = levels.iter().map(|&l| l as u8).collect();
                    PackedB::with_layout(&l, (k, n), n, 1, layout)
                } else {
                    let l: Vec<i8> = levels.iter().map(|&l| l as i8).collect();
                    PackedB::with_layout(&l, (k, n), n, 1, layout)
                };
                assert_eq!(got.shift, want.shift);
                assert_eq!(got.col_sums, want.col_sums, "scale {scale}");
                assert_eq!(got.data, want.data, "scale {scale}");
                // And the product through it is the integer one.
                let a: Vec<i8> = (0..3 * k)
                    .map(|i| (i as i32 * 29 % 255 - 127) as i8)
                    .collect();
                let (mut p1, mut p2) = (vec![0i32; 3 * n], vec![0i32; 3 * n]);
                let copy = |_: usize, _: usize, v: &[i32], o: &mut [i32]| o.copy_from_slice(v);
                qgemm(&a, 3, k, &[0], &got, &[zp as i32], &mut p1, 1, copy);
                qgemm(&a, 3, k, &[0], &want, &[zp as i32], &mut p2, 1, copy);
                assert_eq!(p1, p2);
            }
        }
    }
}
