use crate::ops::{FLOATS, LATEST};

crate::register!("Tanh", [6, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x.tanh()
));
