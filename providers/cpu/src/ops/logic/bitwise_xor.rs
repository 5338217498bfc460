use super::bitwise::Bitwise;
use crate::ops::LATEST;

crate::register!("BitwiseXor", [18, LATEST], super::bitwise::INTS, |_| Ok(
    Box::new(Bitwise(|a, b| a ^ b))
));
