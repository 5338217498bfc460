//! Slice: clamps each axis's start, end and step as ONNX specifies, then makes one
//! strided copy (a zero-copy view when the result is one contiguous run).

use ort_core::{Error, Value};

use super::{ints_input, norm_axes, strided};
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::{dims, strides_of};

/// starts/ends/axes are attributes before opset 10; from 10 they (and steps) are inputs.
struct Slice {
    attrs: Option<[Option<Vec<i64>>; 3]>,
}

/// Start and length of one sliced axis, clamped as ONNX specifies (so INT_MAX and
/// INT_MIN ends mean "to the end" in either direction).
fn range(d: i64, start: i64, end: i64, step: i64) -> (i64, i64) {
    let (s, e) = (
        if start < 0 { start + d } else { start },
        if end < 0 { end + d } else { end },
    );
    if step > 0 {
        let (s, e) = (s.clamp(0, d), e.clamp(0, d));
        (s, if e > s { (e - s + step - 1) / step } else { 0 })
    } else {
        let (s, e) = (s.max(0).min(d - 1), e.max(-1).min(d - 1));
        (s, if s > e { (s - e - step - 1) / -step } else { 0 })
    }
}

impl Kernel for Slice {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let [starts, ends, axes, steps] = match &self.attrs {
            Some([s, e, a]) => [s.clone(), e.clone(), a.clone(), None],
            None => [
                ints_input(inputs, 1)?,
                ints_input(inputs, 2)?,
                ints_input(inputs, 3)?,
                ints_input(inputs, 4)?,
            ],
        };
        let (starts, ends) = match (starts, ends) {
            (Some(s), Some(e)) => (s, e),
            _ => return Err(Error::invalid("Slice needs starts and ends")),
        };
        let r = x.rank();
        let axes = norm_axes(
            &axes.unwrap_or_else(|| (0..starts.len() as i64).collect()),
            r,
        )?;
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(Error::invalid(
                "Slice starts, ends, axes and steps differ in length",
            ));
        }
        let d = dims(x.shape());
        let st = strides_of(&d);
        let mut shape = d.clone();
        let mut strides = st.clone();
        let mut base = 0isize;
        for (k, &a) in axes.iter().enumerate() {
            if steps[k] == 0 {
                return Err(Error::invalid("Slice step cannot be 0"));
            }
            let (s, n) = range(d[a] as i64, starts[k], ends[k], steps[k]);
            shape[a] = n as usize;
            strides[a] = st[a] * steps[k] as isize;
            if n > 0 {
                base += s as isize * st[a];
            }
        }
        let out_shape: Vec<i64> = shape.iter().map(|&v| v as i64).collect();
        one(strided(ctx, x, &out_shape, base, &shape, &strides)?)
    }
}

crate::register!("Slice", [1, LATEST], ANY, |n| {
    let attrs = if n.opset() < 10 {
        Some([n.ints("starts")?, n.ints("ends")?, n.ints("axes")?])
    } else {
        None
    };
    Ok(Box::new(Slice { attrs }))
});
