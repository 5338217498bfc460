use super::arith_kernel;
use crate::ops::{LATEST, NUMERIC};

crate::register!("Mul", [7, LATEST], NUMERIC, |_| Ok(arith_kernel(
    |a, b| a * b,
    |a, b| Ok(a.wrapping_mul(b))
)));
