//! The Vulkan objects a session needs, made once per device and process.

use std::sync::{Arc, Mutex};

use ort_core::{DeviceId, MemoryKind};

use vulkano::buffer::{Buffer, BufferCreateInfo, BufferUsage, Subbuffer};
use vulkano::command_buffer::allocator::StandardCommandBufferAllocator;
use vulkano::descriptor_set::allocator::StandardDescriptorSetAllocator;
use vulkano::device::physical::{PhysicalDevice, PhysicalDeviceType};
use vulkano::device::{Device, DeviceCreateInfo, Queue, QueueCreateInfo, QueueFlags};
use vulkano::instance::{Instance, InstanceCreateFlags, InstanceCreateInfo};
use vulkano::memory::allocator::{AllocationCreateInfo, MemoryTypeFilter, StandardMemoryAllocator};
use vulkano::pipeline::compute::ComputePipelineCreateInfo;
use vulkano::pipeline::layout::PipelineDescriptorSetLayoutCreateInfo;
use vulkano::pipeline::{ComputePipeline, PipelineLayout, PipelineShaderStageCreateInfo};
use vulkano::shader::{ShaderModule, ShaderModuleCreateInfo};
use vulkano::VulkanLibrary;

/// The compute pipelines, one per shader in `shaders/`.
pub struct Pipelines {
    pub unary: Arc<ComputePipeline>,
    pub binary: Arc<ComputePipeline>,
    pub matmul: Arc<ComputePipeline>,
    pub softmax: Arc<ComputePipeline>,
    pub copy: Arc<ComputePipeline>,
    pub conv: Arc<ComputePipeline>,
    pub conv_gemm: Arc<ComputePipeline>,
    pub pool: Arc<ComputePipeline>,
    pub layernorm: Arc<ComputePipeline>,
    pub reduce: Arc<ComputePipeline>,
    pub gather: Arc<ComputePipeline>,
    pub select: Arc<ComputePipeline>,
}

pub struct Gpu {
    pub device: Arc<Device>,
    pub queue: Arc<Queue>,
    pub memory: Arc<StandardMemoryAllocator>,
    pub commands: Arc<StandardCommandBufferAllocator>,
    pub descriptors: Arc<StandardDescriptorSetAllocator>,
    pub pipelines: Pipelines,
    /// The device's name, for messages.
    pub name: String,
    /// The memory partitions read and write, as the ABI names it.
    pub id: DeviceId,
}

/// The Vulkan instance, or why there is none (no loader, no driver).
fn instance() -> Result<Arc<Instance>, String> {
    let library = VulkanLibrary::new()
        .map_err(|e| format!("no Vulkan loader found (libvulkan.so.1): {e}"))?;
    // Portability drivers (MoltenVK) are only listed when asked for.
    let portability = library.supported_extensions().khr_portability_enumeration;
    let info = InstanceCreateInfo {
        flags: if portability {
            InstanceCreateFlags::ENUMERATE_PORTABILITY
        } else {
            InstanceCreateFlags::empty()
        },
        enabled_extensions: vulkano::instance::InstanceExtensions {
            khr_portability_enumeration: portability,
            ..Default::default()
        },
        ..Default::default()
    };
    Instance::new(library, info)
        .map_err(|e| format!("the Vulkan instance could not be created: {e}"))
}

/// Set to 1 to use software Vulkan devices (Mesa's lavapipe): CI and tests do.
pub const SOFTWARE_ENV: &str = "ORT_VULKAN_SOFTWARE";

/// The devices that have a compute queue, each with that queue family.
/// Software devices count only when [`SOFTWARE_ENV`] is 1: they emulate a GPU on
/// the same cores the CPU provider would use, only slower, so a session must not
/// pick one by priority alone.
fn compute_devices(instance: &Arc<Instance>) -> Result<Vec<(Arc<PhysicalDevice>, u32)>, String> {
    let devices = instance
        .enumerate_physical_devices()
        .map_err(|e| format!("Vulkan devices could not be listed: {e}"))?;
    let software = std::env::var(SOFTWARE_ENV).is_ok_and(|v| v == "1");
    let mut skipped = Vec::new();
    let found: Vec<_> = devices
        .filter_map(|d| {
            let family = d
                .queue_family_properties()
                .iter()
                .position(|q| q.queue_flags.contains(QueueFlags::COMPUTE))?;
            if d.properties().device_type == PhysicalDeviceType::Cpu && !software {
                skipped.push(d.properties().device_name.clone());
                return None;
            }
            Some((d, family as u32))
        })
        .collect();
    if found.is_empty() && !skipped.is_empty() {
        return Err(format!(
            "only a software Vulkan device was found ({}); set {SOFTWARE_ENV}=1 to use it",
            skipped.join(", ")
        ));
    }
    Ok(found)
}

/// Whether a Vulkan device with a compute queue exists; if not, why.
pub fn probe() -> Result<String, String> {
    let devices = compute_devices(&instance()?)?;
    match devices.first() {
        Some((d, _)) => Ok(d.properties().device_name.clone()),
        None => Err("no Vulkan device with a compute queue".into()),
    }
}

fn pipeline(device: &Arc<Device>, spirv: &[u8]) -> Result<Arc<ComputePipeline>, String> {
    let words =
        vulkano::shader::spirv::bytes_to_words(spirv).map_err(|e| format!("bad SPIR-V: {e}"))?;
    // SAFETY: the words are SPIR-V that naga produced and validated at build time.
    let module = unsafe { ShaderModule::new(device.clone(), ShaderModuleCreateInfo::new(&words)) }
        .map_err(|e| format!("shader module: {e}"))?;
    let entry = module
        .entry_point("main")
        .ok_or("the shader has no `main` entry point")?;
    let stage = PipelineShaderStageCreateInfo::new(entry);
    let layout_info = PipelineDescriptorSetLayoutCreateInfo::from_stages([&stage])
        .into_pipeline_layout_create_info(device.clone())
        .map_err(|e| format!("pipeline layout: {e:?}"))?;
    let layout = PipelineLayout::new(device.clone(), layout_info)
        .map_err(|e| format!("pipeline layout: {e}"))?;
    ComputePipeline::new(
        device.clone(),
        None,
        ComputePipelineCreateInfo::stage_layout(stage, layout),
    )
    .map_err(|e| format!("compute pipeline: {e}"))
}

/// The devices opened so far, by index. Opening one (the instance, the device
/// and every pipeline, which a driver compiles to machine code) takes over a
/// second on lavapipe, so sessions share them instead of each paying it.
static OPENED: Mutex<Vec<(usize, Arc<Gpu>)>> = Mutex::new(Vec::new());

impl Gpu {
    /// Device `index` of those with a compute queue, opened on first use and
    /// shared by every session in the process after that.
    pub fn shared(index: usize) -> Result<Arc<Gpu>, String> {
        // A poisoned lock only means a thread panicked while opening a device;
        // the list itself is always whole.
        let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, gpu)) = opened.iter().find(|(i, _)| *i == index) {
            return Ok(gpu.clone());
        }
        let gpu = Arc::new(Gpu::new(index)?);
        opened.push((index, gpu.clone()));
        Ok(gpu)
    }

    /// Opens device `index` of those with a compute queue.
    fn new(index: usize) -> Result<Gpu, String> {
        let instance = instance()?;
        let devices = compute_devices(&instance)?;
        let count = devices.len();
        let (physical, family) = devices.into_iter().nth(index).ok_or_else(|| {
            format!("Vulkan device {index} not found ({count} with a compute queue)")
        })?;
        let name = physical.properties().device_name.clone();
        let id = DeviceId {
            kind: MemoryKind::Device,
            vendor: physical.properties().vendor_id,
            device: index as u32,
        };
        let (device, mut queues) = Device::new(
            physical,
            DeviceCreateInfo {
                queue_create_infos: vec![QueueCreateInfo {
                    queue_family_index: family,
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .map_err(|e| format!("{name}: the device could not be opened: {e}"))?;
        let queue = queues.next().ok_or("the device gave no queue")?;
        let pipelines = Pipelines {
            unary: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/unary.spv")),
            )?,
            binary: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/binary.spv")),
            )?,
            matmul: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/matmul.spv")),
            )?,
            softmax: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/softmax.spv")),
            )?,
            copy: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/copy.spv")),
            )?,
            conv: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/conv.spv")),
            )?,
            conv_gemm: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/conv_gemm.spv")),
            )?,
            pool: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/pool.spv")),
            )?,
            layernorm: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/layernorm.spv")),
            )?,
            reduce: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/reduce.spv")),
            )?,
            gather: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/gather.spv")),
            )?,
            select: pipeline(
                &device,
                include_bytes!(concat!(env!("OUT_DIR"), "/where.spv")),
            )?,
        };
        Ok(Gpu {
            memory: Arc::new(StandardMemoryAllocator::new_default(device.clone())),
            commands: Arc::new(StandardCommandBufferAllocator::new(
                device.clone(),
                Default::default(),
            )),
            descriptors: Arc::new(StandardDescriptorSetAllocator::new(
                device.clone(),
                Default::default(),
            )),
            device,
            queue,
            pipelines,
            name,
            id,
        })
    }

    /// A storage buffer of `len` floats (at least one: Vulkan has no empty
    /// buffers). `host` makes it readable and writable by the host (inputs and
    /// outputs of a partition); otherwise it stays on the device.
    pub fn buffer(&self, len: usize, host: bool) -> Result<Subbuffer<[f32]>, String> {
        let filter = if host {
            MemoryTypeFilter::PREFER_DEVICE | MemoryTypeFilter::HOST_RANDOM_ACCESS
        } else {
            MemoryTypeFilter::PREFER_DEVICE
        };
        Buffer::new_slice::<f32>(
            self.memory.clone(),
            BufferCreateInfo {
                usage: BufferUsage::STORAGE_BUFFER
                    | BufferUsage::TRANSFER_DST
                    | BufferUsage::TRANSFER_SRC,
                ..Default::default()
            },
            AllocationCreateInfo {
                memory_type_filter: filter,
                ..Default::default()
            },
            len.max(1) as u64,
        )
        .map_err(|e| format!("{}: out of device memory for {len} floats: {e}", self.name))
    }

    /// A host-writable buffer holding `data`.
    pub fn upload(&self, data: &[f32]) -> Result<Subbuffer<[f32]>, String> {
        let b = self.buffer(data.len(), true)?;
        if !data.is_empty() {
            let mut w = b.write().map_err(|e| format!("buffer write: {e}"))?;
            w[..data.len()].copy_from_slice(data);
        }
        Ok(b)
    }
}
