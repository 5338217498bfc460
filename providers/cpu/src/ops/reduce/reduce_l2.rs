use super::{Kind, Reduce};
use crate::ops::{LATEST, NUMERIC};

crate::register!("ReduceL2", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::L2,
    18
));
