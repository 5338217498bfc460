//! The ai.onnx.ml domain: the scikit-learn-style models and transforms that converters
//! such as skl2onnx write (trees, linear models, SVMs, encoders, scalers), one op per file.

mod array_feature_extractor;
mod binarizer;
mod cast_map;
mod category_mapper;
mod common;
mod dict_vectorizer;
mod feature_vectorizer;
mod imputer;
mod label_encoder;
mod linear_classifier;
mod linear_regressor;
mod normalizer;
mod one_hot_encoder;
mod scaler;
mod svm;
mod svm_classifier;
mod svm_regressor;
mod tree;
mod tree_ensemble;
mod tree_ensemble_classifier;
mod tree_ensemble_regressor;
mod zip_map;
