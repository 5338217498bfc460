use super::{Cmp, Compare};
use crate::ops::{LATEST, NUMERIC};

crate::register!("Less", [7, LATEST], NUMERIC, |_| Ok(Box::new(Compare(
    Cmp::Lt
))));
