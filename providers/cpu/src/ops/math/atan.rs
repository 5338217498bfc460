use crate::ops::{FLOATS, LATEST};

crate::register!("Atan", [7, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x.atan()
));
