use super::Arith;
use crate::ops::{LATEST, NUMERIC};

crate::register!("Sub", [7, LATEST], NUMERIC, |_| Ok(Box::new(Arith {
    f: |a, b| a - b,
    i: |a, b| Ok(a.wrapping_sub(b)),
})));
