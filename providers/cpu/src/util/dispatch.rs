//! Macros that instantiate a generic body for a tensor's element type.

/// Dispatches a generic expression over the float element types f32, f64, f16, bf16.
#[macro_export]
macro_rules! dispatch_float {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::F32 => {
                type $T = f32;
                $body
            }
            __E::F64 => {
                type $T = f64;
                $body
            }
            __E::F16 => {
                type $T = half::f16;
                $body
            }
            __E::BF16 => {
                type $T = half::bf16;
                $body
            }
            e => Err(ort_core::Error::not_implemented(format!(
                "element type {e} is not supported here"
            ))),
        }
    }};
}

/// Dispatches over the numeric element types (floats and integers).
#[macro_export]
macro_rules! dispatch_numeric {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::F32 => { type $T = f32; $body }
            __E::F64 => { type $T = f64; $body }
            __E::F16 => { type $T = half::f16; $body }
            __E::BF16 => { type $T = half::bf16; $body }
            e => $crate::dispatch_int!(e, $T => $body),
        }
    }};
}

/// Dispatches over the integer element types.
#[macro_export]
macro_rules! dispatch_int {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::I8 => {
                type $T = i8;
                $body
            }
            __E::I16 => {
                type $T = i16;
                $body
            }
            __E::I32 => {
                type $T = i32;
                $body
            }
            __E::I64 => {
                type $T = i64;
                $body
            }
            __E::U8 => {
                type $T = u8;
                $body
            }
            __E::U16 => {
                type $T = u16;
                $body
            }
            __E::U32 => {
                type $T = u32;
                $body
            }
            __E::U64 => {
                type $T = u64;
                $body
            }
            e => Err(ort_core::Error::not_implemented(format!(
                "element type {e} is not supported here"
            ))),
        }
    }};
}

/// Dispatches over every plain-data element type (numeric and bool).
#[macro_export]
macro_rules! dispatch_pod {
    ($elem:expr, $T:ident => $body:expr) => {{
        use ort_core::ElemType as __E;
        match $elem {
            __E::Bool => { type $T = bool; $body }
            e => $crate::dispatch_numeric!(e, $T => $body),
        }
    }};
}

/// Dispatches a data-movement body over a [`Movable`] stand-in for any element type.
#[macro_export]
macro_rules! dispatch_move {
    ($elem:expr, $T:ident => $body:expr) => {{
        let __e: ort_core::ElemType = $elem;
        match __e {
            ort_core::ElemType::String => {
                type $T = ort_core::abi::RString;
                $body
            }
            e => match e.size() {
                1 => {
                    type $T = u8;
                    $body
                }
                2 => {
                    type $T = u16;
                    $body
                }
                4 => {
                    type $T = u32;
                    $body
                }
                8 => {
                    type $T = u64;
                    $body
                }
                16 => {
                    type $T = [u64; 2];
                    $body
                }
                _ => Err(ort_core::Error::not_implemented(format!(
                    "element type {e} is not supported here"
                ))),
            },
        }
    }};
}
