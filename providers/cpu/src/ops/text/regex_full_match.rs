//! RegexFullMatch: compiles the pattern once with the regex crate, anchored as ^(?:…)$
//! for a full match, and tests each string with is_match.

use ort_core::{Error, Tensor, Value};

use super::strings;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// RegexFullMatch: whether each whole string matches an RE2-syntax pattern.
struct RegexFullMatch {
    re: regex::Regex,
}

impl Kernel for RegexFullMatch {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let out: Vec<bool> = strings(x)?
            .iter()
            .map(|s| self.re.is_match(s.as_str()))
            .collect();
        one(Tensor::from_vec(x.shape(), out)?)
    }
}

crate::register!("RegexFullMatch", [20, LATEST], ANY, |n| {
    let pattern = n.string("pattern", "")?;
    // Anchored at both ends: a full match, as RE2::FullMatch.
    let re = regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| Error::invalid(format!("invalid regular expression {pattern:?}: {e}")))?;
    Ok(Box::new(RegexFullMatch { re }))
});
