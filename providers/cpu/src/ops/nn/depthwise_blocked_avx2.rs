//! `depthwise_blocked`'s moves between planes and channel lanes on AVX2:
//! eight planes' rows of eight columns become eight columns' vectors of
//! eight channels by one 8×8 transpose in registers, and back. Element by
//! element, the two moves took as long as the taps' multiply-adds on the
//! 7×7 and 14×14 planes of MobileNetV3's 5×5 layers.

use std::arch::x86_64::*;

/// Channels per vector.
const V: usize = 8;

/// The 8×8 transpose of `r`: lane j of output i is lane i of input j.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn transpose8(r: [__m256; V]) -> [__m256; V] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0b01_00_01_00>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0b11_10_11_10>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0b01_00_01_00>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0b11_10_11_10>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0b01_00_01_00>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0b11_10_11_10>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0b01_00_01_00>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0b11_10_11_10>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

/// Columns `0..n` of row `rows[c]` (one per channel) into `out`, whose
/// column j lane c sits at `j·stride + c`; lanes past `rows.len()` are left
/// as they are.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn to_lanes(rows: &[&[f32]], n: usize, out: &mut [f32], stride: usize) {
    assert!(rows.iter().all(|r| r.len() >= n));
    assert!(n == 0 || (n - 1) * stride + rows.len() <= out.len());
    // A row shorter than a vector is loaded masked (its first n lanes).
    let short = {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lane)
    };
    for (g, group) in rows.chunks(V).enumerate() {
        let m = group.len();
        // Columns j.. (V of them, or all n when fewer) to lanes g·V...
        let mut chunk = |j: usize| {
            let r: [__m256; V] = std::array::from_fn(|c| match group.get(c) {
                // SAFETY: V floats from j lie in the row (j + V <= n), or
                // the row is shorter and its first n lanes are read.
                Some(row) if n >= V => unsafe { _mm256_loadu_ps(row.as_ptr().add(j)) },
                Some(row) => unsafe { _mm256_maskload_ps(row.as_ptr(), short) },
                None => _mm256_setzero_ps(),
            });
            for (i, v) in transpose8(r).into_iter().enumerate().take(n) {
                let at = (j + i) * stride + g * V;
                if m == V {
                    // SAFETY: V floats at `at`, within the column's channels
                    // (asserted through the last column's).
                    unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(at), v) };
                } else {
                    let mut lanes = [0f32; V];
                    // SAFETY: V floats in `lanes`.
                    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
                    out[at..at + m].copy_from_slice(&lanes[..m]);
                }
            }
        };
        let mut j = 0;
        while j + V <= n {
            chunk(j);
            j += V;
        }
        // The last columns: the row's last vector, overlapping the columns
        // before it (rewritten with the same values), or the short row.
        if j < n {
            chunk(n.saturating_sub(V));
        }
    }
}

/// The inverse move: position p's lanes at `sums[p·stride..]`, lane c into
/// `planes[c][p]`, for positions `0..n`.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn from_lanes(sums: &[f32], stride: usize, n: usize, planes: &mut [&mut [f32]]) {
    assert!(planes.iter().all(|p| p.len() >= n) && planes.len() <= stride);
    assert!(n == 0 || (n - 1) * stride + planes.len().next_multiple_of(V) <= sums.len());
    for (g, group) in planes.chunks_mut(V).enumerate() {
        // Positions p..p + V.
        let mut chunk = |p: usize| {
            // SAFETY: V floats of lanes g·V.. at each position, inside `sums`
            // (asserted through the last position's, rounded up to V).
            let r: [__m256; V] = std::array::from_fn(|i| unsafe {
                _mm256_loadu_ps(sums.as_ptr().add((p + i) * stride + g * V))
            });
            for (plane, v) in group.iter_mut().zip(transpose8(r)) {
                // SAFETY: V floats from p lie in the plane (p + V <= n).
                unsafe { _mm256_storeu_ps(plane.as_mut_ptr().add(p), v) };
            }
        };
        let mut p = 0;
        while p + V <= n {
            chunk(p);
            p += V;
        }
        if p < n && n >= V {
            // The last vector, overlapping positions already stored.
            chunk(n - V);
        } else {
            for p in p..n {
                for (c, plane) in group.iter_mut().enumerate() {
                    plane[p] = sums[p * stride + g * V + c];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_to_lanes_and_back() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            return;
        }
        // 13 planes: a partial group of lanes; 21, 7 and 8 columns.
        for n in [21, 7, 8] {
            moves(13, n, 16);
        }
    }

    fn moves(c: usize, n: usize, stride: usize) {
        let planes: Vec<Vec<f32>> = (0..c)
            .map(|p| (0..n).map(|j| (p * 100 + j) as f32).collect())
            .collect();
        let rows: Vec<&[f32]> = planes.iter().map(|p| &p[..]).collect();
        let mut lanes = vec![f32::NAN; n * stride];
        // SAFETY: AVX2 and FMA are present (checked by the test).
        unsafe { to_lanes(&rows, n, &mut lanes, stride) };
        for j in 0..n {
            for p in 0..c {
                assert_eq!(lanes[j * stride + p], planes[p][j], "column {j} lane {p}");
            }
            assert!(
                lanes[j * stride + c].is_nan(),
                "column {j}: past the planes"
            );
        }
        let mut back = vec![vec![f32::NAN; n]; c];
        let mut outs: Vec<&mut [f32]> = back.iter_mut().map(|p| &mut p[..]).collect();
        // SAFETY: as above.
        unsafe { from_lanes(&lanes, stride, n, &mut outs) };
        assert_eq!(back, planes);
    }
}
