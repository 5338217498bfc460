use crate::ops::{FLOATS, LATEST};

crate::register!("Log", [6, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x.ln()
));
