use crate::ops::{FLOATS, LATEST};

// ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), which neither overflows nor loses small x.
crate::register!("Softplus", [1, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x.max(0.0) + (-x.abs()).exp().ln_1p()
));
