//! quant ops.
