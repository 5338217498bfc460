use super::{Cmp, Compare};
use crate::ops::{ANY, LATEST};

crate::register!("Equal", [7, LATEST], ANY, |_| Ok(Box::new(Compare(
    Cmp::Eq
))));
