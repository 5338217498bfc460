use crate::ops::{FLOATS, LATEST};

// `x * sigmoid(alpha * x)`.
crate::register!("Swish", [24, LATEST], FLOATS, |n| {
    let alpha = n.float("alpha", 1.0)? as f64;
    super::float_map!([alpha, 0.0], |x, p| x / (1.0 + (-p[0] * x).exp()))
});
