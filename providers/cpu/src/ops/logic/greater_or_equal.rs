use super::{Cmp, Compare};
use crate::ops::{LATEST, NUMERIC};

crate::register!("GreaterOrEqual", [12, LATEST], NUMERIC, |_| Ok(Box::new(
    Compare(Cmp::Ge)
)));
