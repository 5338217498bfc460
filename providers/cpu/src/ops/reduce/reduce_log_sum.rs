use super::log_abs::{Kind, LogAbsReduce};
use crate::ops::{LATEST, NUMERIC};

crate::register!("ReduceLogSum", [1, LATEST], NUMERIC, |n| {
    LogAbsReduce::build(n, Kind::LogSum)
});
