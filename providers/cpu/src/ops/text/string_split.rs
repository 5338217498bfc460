//! StringSplit: splits each string with str::splitn, or Python-style on whitespace runs
//! for an empty delimiter, then pads every row with "" to the largest piece count.

use ort_core::abi::RString;
use ort_core::{Tensor, Value};

use super::strings;
use crate::kernel::{input, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};

/// StringSplit: splits each string by a delimiter (or by runs of whitespace when the
/// delimiter is empty), at most `maxsplit` times; pads the pieces with "" to the
/// longest and also returns each string's piece count.
struct StringSplit {
    delimiter: String,
    maxsplit: Option<usize>,
}

/// Python's `str.split()` with no separator: runs of whitespace separate, leading and
/// trailing whitespace is dropped.
fn split_whitespace(s: &str, maxsplit: Option<usize>) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        if maxsplit.is_some_and(|m| out.len() >= m) {
            out.push(rest);
            break;
        }
        match rest.find(char::is_whitespace) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = rest[i..].trim_start();
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    out
}

impl Kernel for StringSplit {
    fn compute(&self, inputs: &[Option<&Value>], _: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let pieces: Vec<Vec<&str>> = strings(x)?
            .iter()
            .map(|s| {
                let s = s.as_str();
                if self.delimiter.is_empty() {
                    split_whitespace(s, self.maxsplit)
                } else {
                    match self.maxsplit {
                        Some(m) => s.splitn(m + 1, self.delimiter.as_str()).collect(),
                        None => s.split(self.delimiter.as_str()).collect(),
                    }
                }
            })
            .collect();
        let width = pieces.iter().map(|p| p.len()).max().unwrap_or(0);
        let mut out = Vec::with_capacity(pieces.len() * width);
        for p in &pieces {
            out.extend(p.iter().map(|s| RString::from(*s)));
            out.extend((p.len()..width).map(|_| RString::new()));
        }
        let counts: Vec<i64> = pieces.iter().map(|p| p.len() as i64).collect();
        let mut shape = x.shape().to_vec();
        let counts = Tensor::from_vec(&shape, counts)?;
        shape.push(width as i64);
        Ok(vec![
            Some(Value::Tensor(Tensor::from_vec(&shape, out)?)),
            Some(Value::Tensor(counts)),
        ])
    }
}

crate::register!("StringSplit", [20, LATEST], ANY, |n| {
    let m = n.int("maxsplit", -1)?;
    Ok(Box::new(StringSplit {
        delimiter: n.string("delimiter", "")?,
        maxsplit: (m >= 0).then_some(m as usize),
    }))
});
