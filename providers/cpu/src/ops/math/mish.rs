use crate::ops::{FLOATS, LATEST};

// x * tanh(softplus(x)), with softplus written so it cannot overflow.
crate::register!("Mish", [18, LATEST], FLOATS, |_| super::float_map!(
    [0.0, 0.0],
    |x, _| x * (x.max(0.0) + (-x.abs()).exp().ln_1p()).tanh()
));
