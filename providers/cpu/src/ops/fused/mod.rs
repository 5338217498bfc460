//! Kernels for the optimizer's fused ops (domain `ai.ort_rs.fused`, specified in
//! `docs/fused-ops.md`), one op per file.
