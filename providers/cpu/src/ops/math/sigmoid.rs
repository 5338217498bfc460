use crate::ops::{FLOATS, LATEST};

// Written so exp never overflows: for x < 0 use e^x / (1 + e^x).
crate::register!("Sigmoid", [6, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
));
