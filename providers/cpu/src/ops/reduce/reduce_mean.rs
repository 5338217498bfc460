use super::{Kind, Reduce};
use crate::ops::{LATEST, NUMERIC};

crate::register!("ReduceMean", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::Mean,
    18
));
