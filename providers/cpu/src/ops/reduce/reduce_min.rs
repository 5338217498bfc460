use super::{Kind, Reduce, NUMERIC_BOOL};
use crate::ops::LATEST;

crate::register!("ReduceMin", [1, LATEST], NUMERIC_BOOL, |n| Reduce::build(
    n,
    Kind::Min,
    18
));
