//! TfIdfVectorizer: looks up each row's n-grams at every skip distance in a hash map of
//! the pool's n-grams to count hits, then weights the counts as TF, IDF or TF-IDF.

use std::collections::HashMap;

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::{ANY, LATEST};

#[derive(Clone, PartialEq, Eq, Hash)]
enum Tok {
    Int(i64),
    Str(String),
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Tf,
    Idf,
    TfIdf,
}

/// TfIdfVectorizer: counts the pool's n-grams (with skips) in each row and weighs
/// the counts into a `[D]` or `[N, D]` float vector.
struct TfIdf {
    min_n: usize,
    max_n: usize,
    max_skip: usize,
    mode: Mode,
    /// Each known n-gram (of a length in min_n..=max_n) and its output index.
    grams: HashMap<Vec<Tok>, usize>,
    out_size: usize,
    weights: Vec<f32>,
}

impl TfIdf {
    fn count_row(&self, row: &[Tok], freq: &mut [u32]) {
        let len = row.len();
        let mut start_n = self.min_n;
        let mut key = Vec::with_capacity(self.max_n);
        for skip in 1..=self.max_skip + 1 {
            for start in 0..len {
                if start + skip * (start_n - 1) >= len {
                    break;
                }
                key.clear();
                let mut at = start;
                while key.len() < self.max_n && at < len {
                    key.push(row[at].clone());
                    if key.len() >= start_n {
                        if let Some(&i) = self.grams.get(&key) {
                            freq[i] += 1;
                        }
                    }
                    at += skip;
                }
            }
            // Unigrams do not depend on the skip: count them once.
            if start_n == 1 {
                start_n = 2;
                if start_n > self.max_n {
                    break;
                }
            }
        }
    }
}

impl Kernel for TfIdf {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let toks: Vec<Tok> = match x.elem() {
            ElemType::String => x
                .as_slice::<RString>()?
                .iter()
                .map(|s| Tok::Str(s.as_str().to_string()))
                .collect(),
            ElemType::I32 | ElemType::I64 => x.to_i64_vec()?.into_iter().map(Tok::Int).collect(),
            e => {
                return Err(Error::invalid(format!(
                    "TfIdfVectorizer input must be string, int32 or int64, got {e}"
                )))
            }
        };
        let (rows, cols, shape) = match x.shape() {
            [] => (1, 1, vec![self.out_size as i64]),
            [c] => (1, *c as usize, vec![self.out_size as i64]),
            [b, c] => (*b as usize, *c as usize, vec![*b, self.out_size as i64]),
            s => {
                return Err(Error::invalid(format!(
                    "TfIdfVectorizer input must have shape [C] or [N, C], got {s:?}"
                )))
            }
        };
        let d = self.out_size;
        let mut freq = vec![0u32; rows * d];
        if cols > 0 {
            for (r, row) in toks.chunks(cols).enumerate() {
                self.count_row(row, &mut freq[r * d..(r + 1) * d]);
            }
        }
        let w = |i: usize| self.weights.get(i % d).copied();
        let out: Vec<f32> = freq
            .iter()
            .enumerate()
            .map(|(i, &f)| match self.mode {
                Mode::Tf => f as f32,
                Mode::Idf => match w(i) {
                    Some(w) if f > 0 => w,
                    None if f > 0 => 1.0,
                    _ => 0.0,
                },
                Mode::TfIdf => w(i).unwrap_or(1.0) * f as f32,
            })
            .collect();
        one(ctx.tensor_from(&shape, &out)?)
    }
}

fn build(n: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let min_n = n.int("min_gram_length", 0)?;
    let max_n = n.int("max_gram_length", 0)?;
    let max_skip = n.int("max_skip_count", 0)?;
    if min_n < 1 || max_n < min_n || max_skip < 0 {
        return Err(Error::invalid(format!(
            "need 1 <= min_gram_length ({min_n}) <= max_gram_length ({max_n}) and max_skip_count ({max_skip}) >= 0"
        )));
    }
    let mode = match n.string("mode", "")?.as_str() {
        "TF" => Mode::Tf,
        "IDF" => Mode::Idf,
        "TFIDF" => Mode::TfIdf,
        m => {
            return Err(Error::invalid(format!(
                "mode must be TF, IDF or TFIDF, got {m:?}"
            )))
        }
    };
    let counts = n.ints("ngram_counts")?.unwrap_or_default();
    let indexes = n.ints("ngram_indexes")?.unwrap_or_default();
    let pool: Vec<Tok> = match (n.ints("pool_int64s")?, n.strings("pool_strings")?) {
        (Some(p), None) => p.into_iter().map(Tok::Int).collect(),
        (None, Some(p)) => p.into_iter().map(Tok::Str).collect(),
        _ => {
            return Err(Error::invalid(
                "exactly one of pool_int64s and pool_strings is required",
            ))
        }
    };
    let out_size = indexes.iter().copied().max().unwrap_or(-1) + 1;
    if indexes.iter().any(|&i| i < 0) {
        return Err(Error::invalid("ngram_indexes must not be negative"));
    }
    let mut grams = HashMap::new();
    let mut ordinal = 0usize;
    for (g, &start) in counts.iter().enumerate() {
        let size = g + 1;
        let end = counts.get(g + 1).copied().unwrap_or(pool.len() as i64);
        if start < 0 || end < start || end as usize > pool.len() {
            return Err(Error::invalid(format!(
                "ngram_counts {counts:?} do not fit a pool of {}",
                pool.len()
            )));
        }
        for gram in pool[start as usize..end as usize].chunks_exact(size) {
            if (min_n as usize..=max_n as usize).contains(&size) {
                let idx = *indexes.get(ordinal).ok_or_else(|| {
                    Error::invalid("ngram_indexes has fewer entries than the pool has n-grams")
                })?;
                grams.insert(gram.to_vec(), idx as usize);
            }
            ordinal += 1;
        }
    }
    Ok(Box::new(TfIdf {
        min_n: min_n as usize,
        max_n: max_n as usize,
        max_skip: max_skip as usize,
        mode,
        grams,
        out_size: out_size as usize,
        weights: n.floats("weights")?.unwrap_or_default(),
    }))
}

crate::register!("TfIdfVectorizer", [9, LATEST], ANY, build);
