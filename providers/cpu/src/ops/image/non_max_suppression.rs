//! NonMaxSuppression (opsets 10, 11): greedy per (batch, class) selection of the
//! highest-scoring boxes that do not overlap an already selected one too much.

use ort_core::{Error, Value};

use super::f64s;
use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{FLOATS, LATEST};

struct NonMaxSuppression {
    center_point_box: bool,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(NonMaxSuppression {
        center_point_box: info.int("center_point_box", 0)? != 0,
    }))
}

/// A box as (x_min, x_max, y_min, y_max).
fn corners(b: &[f64], center: bool) -> [f64; 4] {
    if center {
        let (hw, hh) = (b[2] / 2.0, b[3] / 2.0);
        [b[0] - hw, b[0] + hw, b[1] - hh, b[1] + hh]
    } else {
        [
            b[1].min(b[3]),
            b[1].max(b[3]),
            b[0].min(b[2]),
            b[0].max(b[2]),
        ]
    }
}

/// Whether boxes `a` and `b` overlap by more than `threshold` (intersection over union).
fn suppresses(a: &[f64; 4], b: &[f64; 4], threshold: f64) -> bool {
    let (x0, x1) = (a[0].max(b[0]), a[1].min(b[1]));
    if x1 <= x0 {
        return false;
    }
    let (y0, y1) = (a[2].max(b[2]), a[3].min(b[3]));
    if y1 <= y0 {
        return false;
    }
    let inter = (x1 - x0) * (y1 - y0);
    let area_a = (a[1] - a[0]) * (a[3] - a[2]);
    let area_b = (b[1] - b[0]) * (b[3] - b[2]);
    let union = area_a + area_b - inter;
    if inter <= 0.0 || area_a <= 0.0 || area_b <= 0.0 || union <= 0.0 {
        return false;
    }
    inter / union > threshold
}

impl Kernel for NonMaxSuppression {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let boxes_t = input(inputs, 0)?;
        let scores_t = input(inputs, 1)?;
        let (bs, ss) = (boxes_t.shape(), scores_t.shape());
        if bs.len() != 3 || bs[2] != 4 || ss.len() != 3 || ss[0] != bs[0] || ss[2] != bs[1] {
            return Err(Error::invalid(format!(
                "boxes {bs:?} must be [N, boxes, 4] and scores {ss:?} [N, classes, boxes]"
            )));
        }
        let scalar = |i: usize| -> Result<Option<f64>, Error> {
            match opt_input(inputs, i)? {
                Some(t) if !t.is_empty() => Ok(f64s(t)?.first().copied()),
                _ => Ok(None),
            }
        };
        let max_out = match opt_input(inputs, 2)? {
            Some(t) if !t.is_empty() => t.to_i64_vec()?[0].max(0) as usize,
            _ => 0,
        };
        let iou = scalar(3)?.unwrap_or(0.0);
        let score_threshold = scalar(4)?;
        let (nb, nc, n) = (bs[0] as usize, ss[1] as usize, bs[1] as usize);
        let boxes = f64s(boxes_t)?;
        let scores = f64s(scores_t)?;
        let mut selected: Vec<i64> = Vec::new();
        if max_out > 0 {
            for b in 0..nb {
                let bx: Vec<[f64; 4]> = (0..n)
                    .map(|i| corners(&boxes[(b * n + i) * 4..][..4], self.center_point_box))
                    .collect();
                for c in 0..nc {
                    let sc = &scores[(b * nc + c) * n..][..n];
                    let mut cand: Vec<usize> = (0..n)
                        .filter(|&i| score_threshold.is_none_or(|t| sc[i] > t))
                        .collect();
                    // Highest score first; ties keep the lower index first.
                    cand.sort_by(|&i, &j| sc[j].total_cmp(&sc[i]).then(i.cmp(&j)));
                    let mut kept: Vec<usize> = Vec::new();
                    for i in cand {
                        if kept.len() >= max_out {
                            break;
                        }
                        if kept.iter().all(|&k| !suppresses(&bx[i], &bx[k], iou)) {
                            kept.push(i);
                            selected.extend_from_slice(&[b as i64, c as i64, i as i64]);
                        }
                    }
                }
            }
        }
        let rows = (selected.len() / 3) as i64;
        one(ctx.tensor_from(&[rows, 3], &selected)?)
    }
}

crate::register!("NonMaxSuppression", [10, LATEST], FLOATS, build);
