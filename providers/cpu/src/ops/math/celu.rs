use crate::ops::{FLOATS, LATEST};

crate::register!("Celu", [12, LATEST], FLOATS, |n| {
    let alpha = n.float("alpha", 1.0)? as f64;
    if alpha == 0.0 {
        return Err(ort_core::Error::invalid("Celu alpha must be nonzero"));
    }
    super::float_map!([alpha, 0.0], |x, p| x.max(0.0)
        + (p[0] * (x / p[0]).exp_m1()).min(0.0))
});
