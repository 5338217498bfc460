use super::ArgReduce;
use crate::ops::{LATEST, NUMERIC};

crate::register!("ArgMax", [1, LATEST], NUMERIC, |n| ArgReduce::build(
    n, true
));
