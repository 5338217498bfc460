//! GetCapability and Compile: which nodes the Vulkan provider takes, grouped
//! into partitions, and how a group is compiled.

use std::sync::Arc;

use ort_core::abi::FusedNode;
use ort_core::abi::{Availability, Buffer, Capability, MemoryInfo, ProviderInfo};
use ort_core::kit::lower::capability_by_runs;
use ort_core::plugin::{Options, Partition, Provider};
use ort_core::{DeviceId, Error, GraphView, Tensor};

use crate::gpu::{self, Gpu};
use crate::memory;
use crate::ops;
use crate::partition::VulkanPartition;

pub struct VulkanProvider {
    gpu: Arc<Gpu>,
    /// Whether float16 nodes are claimed (option `f16`, default 1).
    f16: bool,
}

impl Provider for VulkanProvider {
    fn info() -> ProviderInfo {
        ProviderInfo::new("vulkan", "ort-rs", env!("CARGO_PKG_VERSION"), 50)
    }

    fn probe() -> Availability {
        Availability::of(&gpu::probe())
    }

    fn create(options: &Options) -> Result<Self, Error> {
        let device = options.parse("device", 0usize)?;
        let f16 = match options.get("f16").unwrap_or("1") {
            "1" | "true" => true,
            "0" | "false" => false,
            v => {
                return Err(Error::invalid(format!(
                    "provider option f16={v}: use 1 or 0"
                )))
            }
        };
        let gpu = Gpu::shared(device).map_err(Error::fail)?;
        Ok(VulkanProvider { gpu, f16 })
    }

    /// Runs of consecutive nodes (in topological order) that the shaders can
    /// compute become one group each: a run has no path that leaves it and comes
    /// back, so the group is convex, and its intermediates stay on the device.
    fn get_capability(&self, graph: &GraphView<'_>) -> Result<Capability, Error> {
        Ok(capability_by_runs(graph, |node| {
            ops::claim(node, graph, self.f16).map(|_| ())
        }))
    }

    fn compile(&self, fused: &FusedNode<'_>) -> Result<Box<dyn Partition>, Error> {
        Ok(Box::new(VulkanPartition::compile(
            self.gpu.clone(),
            fused,
            self.f16,
        )?))
    }

    /// Partitions read and write device memory; the host copies values in and out
    /// through `transfer` only where they cross to the CPU.
    fn memory(&self) -> MemoryInfo {
        MemoryInfo {
            device: self.gpu.id,
            alignment: 256,
        }
    }

    fn alloc(&self, bytes: usize) -> Result<Buffer, Error> {
        let buf = self
            .gpu
            .buffer(bytes.div_ceil(4), false)
            .map_err(Error::fail)?;
        let n = buf.len() as i64;
        let t = memory::wrap(&self.gpu, buf, &[n], ort_core::ElemType::F32)?;
        Ok(t.buffer().clone())
    }

    fn transfer(&self, src: &Tensor, device: DeviceId) -> Result<Tensor, Error> {
        memory::transfer(&self.gpu, src, device)
    }
}
