//! # The CUDA execution provider
//!
//! A `cdylib` plugin (`libort_provider_cuda.so`) for NVIDIA GPUs through
//! cudarc. It loads libcuda, libnvrtc and libcublas at run time, so it builds
//! with no CUDA toolkit and no GPU; where any is missing, `probe` says which and
//! the session goes on with the other providers.
//!
//! - [`driver`]: the probe, the context, the lanes (a stream, a cuBLAS handle
//!   and pinned staging memory each; a run takes one) and `catch_unwind` around
//!   cudarc, which panics when a library or symbol is missing.
//! - [`libs`]: where the CUDA libraries are looked for (option `lib_dir`,
//!   `CUDA_PATH`/`CUDA_HOME`, the loader path, `/usr/local/cuda*`, pip wheels).
//! - [`arena`]: the caching device allocator, with the memory limit.
//! - [`memory`]: device blocks as ABI buffers, so values stay on the GPU between
//!   CUDA partitions; `transfer` copies through pinned memory.
//! - [`dnn`]: cuDNN for convolutions when it is found (heuristic algorithm
//!   picks cached per shape).
//! - [`kernels`]: the CUDA C sources in `kernels/*.cu`, compiled by NVRTC once
//!   per architecture and process.
//! - `provider`: GetCapability, Compile and the options; `partition`: a compiled
//!   group, its nodes lowered to steps launched on one stream per compute.
//! - `ops/<op>.rs`: what each op accepts, its lowering, output shape and
//!   launches. MatMul, Gemm and Conv's product are cuBLAS GEMMs.
//!
//! Options: `device_id` (also `device`, default 0), `lib_dir` (a folder
//! searched first for the CUDA libraries), `tf32` (0 by default: 1 lets
//! cuBLAS and cuDNN round float32 operands to TF32), `cudnn` (`auto` by
//! default, `1` requires it, `0` uses im2col + cuBLAS), `memory_limit` (bytes held by the
//! arena, as `8G`). Float tensors are float32, float16 or bfloat16, stored as
//! such and computed in float32.

pub mod arena;
pub mod dnn;
pub mod driver;
pub mod kernels;
pub mod libs;
pub mod memory;
pub mod ops;
mod partition;
mod provider;

pub use provider::CudaProvider;

ort_core::export_provider!(provider::CudaProvider);
