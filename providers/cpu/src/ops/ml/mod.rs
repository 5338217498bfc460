//! The ai.onnx.ml domain: LabelEncoder, TreeEnsemble, ArrayFeatureExtractor, Binarizer, ...

mod array_feature_extractor;
mod binarizer;
mod label_encoder;
mod tree;
mod tree_ensemble;
mod tree_ensemble_classifier;
mod tree_ensemble_regressor;
