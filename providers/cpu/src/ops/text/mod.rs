//! String and text ops: StringNormalizer, StringSplit, StringConcat, RegexFullMatch, TfIdfVectorizer.

mod regex_full_match;
mod string_concat;
mod string_normalizer;
mod string_split;
mod tf_idf_vectorizer;

use ort_core::abi::RString;
use ort_core::{ElemType, Error, Tensor};

/// The elements of a string tensor, or an error saying the input must be strings.
pub(crate) fn strings(t: &Tensor) -> Result<&[RString], Error> {
    if t.elem() != ElemType::String {
        return Err(Error::invalid(format!(
            "expected a string tensor, got {}",
            t.elem()
        )));
    }
    t.as_slice::<RString>()
}
