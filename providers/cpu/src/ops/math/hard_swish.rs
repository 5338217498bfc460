use crate::ops::{FLOATS, LATEST};

crate::register!("HardSwish", [14, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x * (x / 6.0 + 0.5).clamp(0.0, 1.0)
));
