//! GetCapability and Compile: which nodes the CUDA provider takes, grouped into
//! partitions, and its options and memory functions.

use std::sync::Arc;

use ort_core::abi::{Availability, Buffer, Capability, FusedNode, MemoryInfo, ProviderInfo};
use ort_core::kit::lower::capability_by_runs;
use ort_core::plugin::{Options, Partition, Provider};
use ort_core::{DeviceId, ElemType, Error, GraphView, Tensor};

use crate::driver::{self, Gpu};
use crate::memory;
use crate::ops;
use crate::partition::CudaPartition;

pub struct CudaProvider {
    gpu: Arc<Gpu>,
}

/// `memory_limit`: bytes, or with a K, M or G suffix (powers of 1024).
pub fn parse_bytes(v: &str) -> Result<usize, Error> {
    let v = v.trim();
    let (num, scale) = match v.char_indices().last() {
        Some((i, 'K' | 'k')) => (&v[..i], 1usize << 10),
        Some((i, 'M' | 'm')) => (&v[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&v[..i], 1 << 30),
        _ => (v, 1),
    };
    num.trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            Error::invalid(format!(
                "provider option memory_limit={v}: use bytes, as 4096, 512M or 8G"
            ))
        })
}

pub fn parse_flag(options: &Options, key: &str, default: bool) -> Result<bool, Error> {
    match options.get(key) {
        None => Ok(default),
        Some("1" | "true") => Ok(true),
        Some("0" | "false") => Ok(false),
        Some(v) => Err(Error::invalid(format!(
            "provider option {key}={v}: use 1 or 0"
        ))),
    }
}

impl Provider for CudaProvider {
    fn info() -> ProviderInfo {
        // Ahead of Vulkan (50): on an NVIDIA GPU CUDA is the better path.
        ProviderInfo::new("cuda", "ort-rs", env!("CARGO_PKG_VERSION"), 60)
    }

    fn probe() -> Availability {
        Availability::of(&driver::probe(None))
    }

    fn create(options: &Options) -> Result<Self, Error> {
        let device = options.parse("device_id", options.parse("device", 0usize)?)?;
        let tf32 = parse_flag(options, "tf32", false)?;
        let limit = options.get("memory_limit").map(parse_bytes).transpose()?;
        let lib_dir = options.get("lib_dir").map(std::path::Path::new);
        let use_dnn = match options.get("cudnn") {
            None | Some("auto") => driver::UseDnn::Auto,
            Some("1" | "true") => driver::UseDnn::Required,
            Some("0" | "false") => driver::UseDnn::Off,
            Some(v) => {
                return Err(Error::invalid(format!(
                    "provider option cudnn={v}: use auto, 1 or 0"
                )))
            }
        };
        let gpu = Gpu::new(device, tf32, limit, lib_dir, use_dnn).map_err(Error::fail)?;
        Ok(CudaProvider { gpu: Arc::new(gpu) })
    }

    /// Runs of consecutive claimable nodes (in topological order) become one
    /// group each: a run is convex, and its intermediates stay on the device.
    fn get_capability(&self, graph: &GraphView<'_>) -> Result<Capability, Error> {
        Ok(capability_by_runs(graph, |node| {
            ops::claim(node, graph).map(|_| ())
        }))
    }

    fn compile(&self, fused: &FusedNode<'_>) -> Result<Box<dyn Partition>, Error> {
        Ok(Box::new(CudaPartition::compile(self.gpu.clone(), fused)?))
    }

    fn memory(&self) -> MemoryInfo {
        MemoryInfo {
            device: self.gpu.id,
            alignment: 256,
        }
    }

    fn alloc(&self, bytes: usize) -> Result<Buffer, Error> {
        self.gpu.bind().map_err(Error::fail)?;
        let op = memory::alloc(&self.gpu, &[bytes as i64], ElemType::U8)?;
        Ok(memory::wrap(&self.gpu, op)?.buffer().clone())
    }

    fn transfer(&self, src: &Tensor, device: DeviceId) -> Result<Tensor, Error> {
        memory::transfer(&self.gpu, src, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_limits_parse_with_suffixes() {
        assert_eq!(parse_bytes("4096").unwrap(), 4096);
        assert_eq!(parse_bytes("512M").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("8g").unwrap(), 8 << 30);
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("0").is_err());
    }

    #[test]
    fn without_a_driver_the_probe_says_why() {
        // SAFETY: only tries to open the library.
        if unsafe { cudarc::driver::sys::is_culib_present() } {
            return; // a machine with CUDA: covered by the GPU tests
        }
        let a = CudaProvider::probe();
        assert!(!a.available);
        assert!(a.reason.as_str().contains("libcuda"), "{}", a.reason);
        let err = CudaProvider::create(&Options(vec![]))
            .err()
            .expect("no device here");
        assert!(err.message.as_str().contains("libcuda"), "{}", err.message);
    }
}
