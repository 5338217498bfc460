use super::{Kind, Reduce};
use crate::ops::{LATEST, NUMERIC};

crate::register!("ReduceSumSquare", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::SumSquare,
    18
));
