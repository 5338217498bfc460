use crate::ops::{FLOATS, LATEST};

crate::register!("HardSigmoid", [6, LATEST], FLOATS, |n| {
    let p = [n.float("alpha", 0.2)? as f64, n.float("beta", 0.5)? as f64];
    super::float_map!(p, |x, p| (p[0] * x + p[1]).clamp(0.0, 1.0))
});
