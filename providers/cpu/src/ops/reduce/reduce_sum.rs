use super::{Kind, Reduce};
use crate::ops::{LATEST, NUMERIC};

crate::register!("ReduceSum", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::Sum,
    13
));
