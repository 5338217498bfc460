use super::softmax::{build, Kind};
use crate::ops::{FLOATS, LATEST};

crate::register!("Hardmax", [1, LATEST], FLOATS, |i| build(i, Kind::Hardmax));
