use super::ArgReduce;
use crate::ops::{LATEST, NUMERIC};

crate::register!("ArgMin", [1, LATEST], NUMERIC, |n| ArgReduce::build(
    n, false
));
