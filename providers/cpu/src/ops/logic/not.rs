use ort_core::ElemType;

use super::Logic;
use crate::ops::LATEST;

crate::register!("Not", [1, LATEST], &[ElemType::Bool], |_| Ok(Box::new(
    Logic {
        f: |a, _| !a,
        unary: true
    }
)));
