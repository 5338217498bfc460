use crate::ops::{FLOATS, LATEST};

crate::register!("Round", [11, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x.round_ties_even()
));
