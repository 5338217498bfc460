use crate::ops::{FLOATS, LATEST};

crate::register!("Selu", [6, LATEST], FLOATS, |n| {
    let p = [
        n.float("alpha", 1.673_263_2)? as f64,
        n.float("gamma", 1.050_701)? as f64,
    ];
    super::float_map!(p, |x, p| if x > 0.0 {
        p[1] * x
    } else {
        p[1] * p[0] * x.exp_m1()
    })
});
