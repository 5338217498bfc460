use crate::ops::{FLOATS, LATEST};

crate::register!("ThresholdedRelu", [10, LATEST], FLOATS, |n| {
    let alpha = n.float("alpha", 1.0)? as f64;
    super::float_map!([alpha, 0.0], |x, p| if x > p[0] { x } else { 0.0 })
});
