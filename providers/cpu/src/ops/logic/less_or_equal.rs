use super::{Cmp, Compare};
use crate::ops::{LATEST, NUMERIC};

crate::register!("LessOrEqual", [12, LATEST], NUMERIC, |_| Ok(Box::new(
    Compare(Cmp::Le)
)));
