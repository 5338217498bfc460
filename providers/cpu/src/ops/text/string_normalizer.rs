//! StringNormalizer: drops elements found in a stop-word hash set (matched lower-cased
//! when case-insensitive), then lower- or upper-cases the rest.

use std::collections::HashSet;

use ort_core::abi::RString;
use ort_core::{Error, Tensor, Value};

use super::strings;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

#[derive(Clone, Copy, PartialEq)]
enum Case {
    None,
    Lower,
    Upper,
}

/// StringNormalizer: drops stop words (whole elements) from a `[C]` or `[1, C]`
/// string tensor, then changes case. An empty result is a single "".
struct StringNormalizer {
    case: Case,
    case_sensitive: bool,
    /// Stop words, lower-cased when matching is case-insensitive.
    stops: HashSet<String>,
}

impl Kernel for StringNormalizer {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let two_dim = match x.shape() {
            [_] => false,
            [1, _] => true,
            s => {
                return Err(Error::invalid(format!(
                    "StringNormalizer input must have shape [C] or [1, C], got {s:?}"
                )))
            }
        };
        let mut out: Vec<RString> = strings(x)?
            .iter()
            .filter(|s| {
                let s = s.as_str();
                if self.case_sensitive {
                    !self.stops.contains(s)
                } else {
                    !self.stops.contains(&s.to_lowercase())
                }
            })
            .map(|s| {
                RString::from(match self.case {
                    Case::None => s.as_str().to_string(),
                    Case::Lower => s.as_str().to_lowercase(),
                    Case::Upper => s.as_str().to_uppercase(),
                })
            })
            .collect();
        if out.is_empty() {
            out.push(RString::new());
        }
        let n = out.len() as i64;
        let shape = if two_dim { vec![1, n] } else { vec![n] };
        one(Tensor::from_vec(&shape, out)?)
    }
}

crate::register!("StringNormalizer", [10, LATEST], ANY, |n| {
    let case = match n.string("case_change_action", "NONE")?.as_str() {
        "NONE" => Case::None,
        "LOWER" => Case::Lower,
        "UPPER" => Case::Upper,
        c => {
            return Err(Error::invalid(format!(
                "case_change_action must be NONE, LOWER or UPPER, got {c:?}"
            )))
        }
    };
    let case_sensitive = n.int("is_case_sensitive", 0)? != 0;
    let stops = n
        .strings("stopwords")?
        .unwrap_or_default()
        .into_iter()
        .map(|s| if case_sensitive { s } else { s.to_lowercase() })
        .collect();
    Ok(Box::new(StringNormalizer {
        case,
        case_sensitive,
        stops,
    }))
});
