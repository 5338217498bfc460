use super::bitwise::Bitwise;
use crate::ops::LATEST;

crate::register!("BitwiseAnd", [18, LATEST], super::bitwise::INTS, |_| Ok(
    Box::new(Bitwise(|a, b| a & b))
));
