use crate::ops::{FLOATS, LATEST};

crate::register!("Reciprocal", [6, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| 1.0 / x
));
