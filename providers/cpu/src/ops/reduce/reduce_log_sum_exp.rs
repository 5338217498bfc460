use super::log_abs::{Kind, LogAbsReduce};
use crate::ops::{LATEST, NUMERIC};

crate::register!("ReduceLogSumExp", [1, LATEST], NUMERIC, |n| {
    LogAbsReduce::build(n, Kind::LogSumExp)
});
