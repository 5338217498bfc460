use crate::ops::{FLOATS, LATEST};

crate::register!("LeakyRelu", [6, LATEST], FLOATS, |n| {
    let p = [n.float("alpha", 0.01)? as f64, 0.0];
    super::float_map!(p, |x, p| if x < 0.0 { p[0] * x } else { x })
});
