use crate::ops::{FLOATS, LATEST};

crate::register!("Elu", [6, LATEST], FLOATS, |n| {
    let p = [n.float("alpha", 1.0)? as f64, 0.0];
    super::float_map!(p, |x, p| if x < 0.0 { p[0] * x.exp_m1() } else { x })
});
