use super::{Kind, Reduce};
use crate::ops::{LATEST, NUMERIC};

crate::register!("ReduceProd", [1, LATEST], NUMERIC, |n| Reduce::build(
    n,
    Kind::Prod,
    18
));
