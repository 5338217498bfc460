//! # The Vulkan execution provider
//!
//! A `cdylib` plugin (`libort_provider_vulkan.so`) that runs compute shaders
//! through vulkano on any Vulkan 1.0 device with a compute queue. CI runs it on
//! Mesa's software driver (lavapipe), so every commit exercises it for real.
//!
//! - [`gpu`]: instance, device, queue, allocators and the pipelines, made once
//!   per device and process and shared by its sessions.
//! - `provider`: GetCapability (which nodes, in maximal groups), Compile, and
//!   the memory functions.
//! - [`memory`]: device buffers as ABI buffers, so values stay on the device
//!   between partitions; `transfer` uploads and downloads.
//! - `partition`: a compiled group: its nodes lowered to steps, then per run
//!   one command buffer with every dispatch of the group.
//! - `ops/<op>.rs`: what each op accepts, its lowering, output shape, dispatch.
//! - `shaders/*.wgsl`: the kernels, compiled to SPIR-V by naga in `build.rs`
//!   (pure Rust, so building needs no system shader compiler). Shapes and strides
//!   are push constants, never baked into a shader, so one pipeline serves every
//!   shape.
//!
//! Options: `device` (index among the devices with a compute queue, default 0),
//! `f16` (1, the default: also claim float16 nodes, computed in float32 with each
//! result rounded to float16). Integer inputs (shapes, indices, conditions) are
//! read on the host; a node with an integer output is declined with its reason.

pub mod gpu;
pub mod memory;
pub mod ops;
mod partition;
mod provider;

pub use provider::VulkanProvider;

ort_core::export_provider!(provider::VulkanProvider);
