//! TensorScatter: block-copies update rows into a copy of the cache at the batch's write
//! index plus the row offset (modulo the cache length when circular).

use ort_core::{Error, Value};

use super::indexing::{scatter_blocks, Reduction};
use crate::kernel::{input, one, opt_input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::axis;

/// Writes `update` into a copy of `past_cache` along the sequence axis, at a
/// per-batch write index (a KV-cache append).
struct TensorScatter {
    axis: i64,
    circular: bool,
}

impl Kernel for TensorScatter {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let (cache, upd) = (input(inputs, 0)?, input(inputs, 1)?);
        let r = cache.rank();
        if r < 2 || upd.rank() != r {
            return Err(Error::invalid(format!(
                "TensorScatter cache {:?} and update {:?} must share a rank of 2 or more",
                cache.shape(),
                upd.shape()
            )));
        }
        let a = axis(self.axis, r)?;
        if a == 0 {
            return Err(Error::invalid(
                "TensorScatter axis cannot be the batch axis 0",
            ));
        }
        let (cs, us) = (cache.shape(), upd.shape());
        if (0..r).any(|i| i != a && cs[i] != us[i]) || us[a] > cs[a] {
            return Err(Error::invalid(format!(
                "TensorScatter update shape {us:?} does not fit cache shape {cs:?}"
            )));
        }
        let batch = cs[0] as usize;
        let widx = match opt_input(inputs, 2)? {
            Some(t) => t.to_i64_vec()?,
            None => vec![0; batch],
        };
        if widx.len() != batch {
            return Err(Error::invalid(format!(
                "TensorScatter write_indices holds {} values for batch {batch}",
                widx.len()
            )));
        }
        let (max_seq, seq) = (cs[a], us[a]);
        let inner = cs[a + 1..].iter().product::<i64>() as usize;
        let outer = cs[..a].iter().product::<i64>() as usize;
        let per_batch = outer.checked_div(batch).unwrap_or(0);
        let mut dst = Vec::with_capacity(outer * seq as usize);
        for p in 0..outer {
            let w = widx[p / per_batch.max(1)];
            for s in 0..seq {
                let mut t = w + s;
                if self.circular {
                    t = t.rem_euclid(max_seq.max(1));
                }
                if !(0..max_seq).contains(&t) {
                    return Err(Error::invalid(format!(
                        "TensorScatter writes position {t} beyond the cache length {max_seq}"
                    )));
                }
                dst.push((p * max_seq as usize + t as usize) * inner);
            }
        }
        one(scatter_blocks(
            ctx,
            cache,
            upd,
            &dst,
            inner,
            Reduction::None,
        )?)
    }
}

crate::register!("TensorScatter", [24, LATEST], ANY, |n| {
    let circular = match n.string("mode", "linear")?.as_str() {
        "linear" => false,
        "circular" => true,
        m => return Err(Error::invalid(format!("unknown TensorScatter mode '{m}'"))),
    };
    Ok(Box::new(TensorScatter {
        axis: n.int("axis", -2)?,
        circular,
    }))
});
