//! A compiled partition: the group's nodes lowered to steps. Float inputs arrive
//! and outputs leave as tensors in device memory (`memory.rs`); host integers
//! (shapes, axes, indices, conditions) are asked for in host memory. Each
//! `compute` records every step into one command buffer, submits it and waits.

use std::sync::Arc;

use ort_core::abi::FusedNode;
use ort_core::kit;
use ort_core::kit::lower::{context, IntSrc, Program, Src};
use ort_core::plugin::{Host, Outputs, Partition};
use ort_core::{DeviceId, ElemType, Error, Value};
use vulkano::command_buffer::{AutoCommandBufferBuilder, CommandBufferUsage};

use crate::gpu::Gpu;
use crate::memory;
use crate::ops::{self, numel, Ints, Io, Kernel, Operand};

type Step = ort_core::kit::lower::Step<dyn Kernel>;

pub struct VulkanPartition {
    gpu: Arc<Gpu>,
    consts: Vec<Operand>,
    steps: Vec<Step>,
    outputs: Vec<Src>,
    /// Per partition input: whether a step reads it as a float operand (so it
    /// is wanted in device memory).
    on_device: Vec<bool>,
    /// Per output: float32 or float16.
    elems: Vec<ElemType>,
}

fn fail(what: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::fail(format!("{what}: {e}"))
}

impl VulkanPartition {
    pub fn compile(
        gpu: Arc<Gpu>,
        fused: &FusedNode<'_>,
        f16: bool,
    ) -> Result<VulkanPartition, Error> {
        let graph = fused.graph;
        let mut consts: Vec<Operand> = Vec::new();
        let program = Program::lower(
            fused,
            |node| ops::claim(node, graph, f16),
            |_, data, shape| {
                consts.push((gpu.upload(data).map_err(Error::fail)?, shape.to_vec()));
                Ok(consts.len() - 1)
            },
        )?;
        let Program {
            steps,
            outputs,
            on_device,
        } = program;
        let elems = fused
            .outputs
            .iter()
            .map(|o| graph.elem_of(o).unwrap_or(ElemType::F32))
            .collect();
        Ok(VulkanPartition {
            elems,
            gpu,
            consts,
            steps,
            outputs,
            on_device,
        })
    }
}

impl Partition for VulkanPartition {
    fn input_memory(&self, index: usize) -> Option<DeviceId> {
        // Inputs no step reads as floats are host integers, or unused.
        (!self.on_device[index]).then_some(DeviceId::HOST)
    }

    fn compute(&self, inputs: &[Option<&Value>], _: &Host<'_>) -> Outputs {
        let gpu = &self.gpu;
        let operands = kit::device_inputs(inputs, &self.on_device, "Vulkan", |_, t| {
            // A host tensor (from a host that did not transfer it) is uploaded here.
            let buf = match memory::unwrap(gpu, t) {
                Some(b) => b,
                None => gpu
                    .upload(&memory::host_floats(t)?)
                    .map_err(fail("upload"))?,
            };
            Ok((buf, t.shape().to_vec()))
        })?;
        let mut builder = AutoCommandBufferBuilder::primary(
            gpu.commands.clone(),
            gpu.queue.queue_family_index(),
            CommandBufferUsage::OneTimeSubmit,
        )
        .map_err(|e| fail("command buffer")(e.to_string()))?;
        let mut made: Vec<Operand> = Vec::with_capacity(self.steps.len());
        let get = |s: Src, made: &[Operand]| -> Operand {
            match s {
                Src::Input(i) => operands[i]
                    .clone()
                    .expect("inputs read as floats are resolved above"),
                Src::Const(i) => self.consts[i].clone(),
                Src::Step(i) => made[i].clone(),
            }
        };
        for step in &self.steps {
            let ins: Vec<Operand> = step.inputs.iter().map(|&s| get(s, &made)).collect();
            let ints = step
                .ints
                .iter()
                .map(|s| match s {
                    IntSrc::Const(v) => Ok(v.clone()),
                    IntSrc::Input(i) => {
                        let v = inputs[*i].ok_or_else(|| {
                            Error::invalid(format!("{}: integer input missing", step.what))
                        })?;
                        Ints::from_tensor(v.tensor()?)
                    }
                })
                .collect::<Result<Vec<Ints>, Error>>()
                .map_err(context(&step.what))?;
            let shapes: Vec<&[i64]> = ins.iter().map(|o| o.1.as_slice()).collect();
            let shape = step.op.shape(&shapes, &ints).map_err(context(&step.what))?;
            let out = if step.op.is_view() {
                (ins[0].0.clone(), shape)
            } else {
                let out = (
                    gpu.buffer(numel(&shape), false).map_err(fail(&step.what))?,
                    shape,
                );
                step.op
                    .record(
                        gpu,
                        &mut builder,
                        Io {
                            inputs: &ins,
                            ints: &ints,
                            out: &out,
                        },
                    )
                    .map_err(context(&step.what))?;
                out
            };
            made.push(out);
        }
        memory::submit(gpu, builder)?;
        self.outputs
            .iter()
            .zip(&self.elems)
            .map(|(&s, &elem)| {
                let (buf, shape) = get(s, &made);
                Ok(Some(Value::Tensor(memory::wrap(gpu, buf, &shape, elem)?)))
            })
            .collect()
    }
}
