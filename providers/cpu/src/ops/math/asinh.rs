use crate::ops::{FLOATS, LATEST};

crate::register!("Asinh", [9, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x.asinh()
));
