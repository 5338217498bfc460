//! CumProd: CumSum's sequential scan along the axis, with multiplication (wrapping for
//! integers) from the identity 1.

use super::cum_sum::Cumulative;
use crate::ops::{LATEST, NUMERIC};

crate::register!("CumProd", [26, LATEST], NUMERIC, |n| Ok(Box::new(
    Cumulative {
        prod: true,
        exclusive: n.int("exclusive", 0)? != 0,
        reverse: n.int("reverse", 0)? != 0,
    }
)));
