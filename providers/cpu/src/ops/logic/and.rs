use ort_core::ElemType;

use super::Logic;
use crate::ops::LATEST;

crate::register!("And", [7, LATEST], &[ElemType::Bool], |_| Ok(Box::new(
    Logic {
        f: |a, b| a && b,
        unary: false
    }
)));
