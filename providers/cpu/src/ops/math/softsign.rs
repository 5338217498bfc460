use crate::ops::{FLOATS, LATEST};

crate::register!("Softsign", [1, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x / (1.0 + x.abs())
));
