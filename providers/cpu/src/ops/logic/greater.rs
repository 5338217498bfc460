use super::{Cmp, Compare};
use crate::ops::{LATEST, NUMERIC};

crate::register!("Greater", [7, LATEST], NUMERIC, |_| Ok(Box::new(Compare(
    Cmp::Gt
))));
