//! A compiled group of nodes. Initializers are uploaded once, at compile time;
//! each run uploads the inputs, records every dispatch of the group into one
//! command buffer (vulkano inserts the barriers between them), waits for it and
//! reads the outputs back. Intermediates never leave the device.

use std::collections::HashMap;
use std::sync::Arc;

use ort_core::abi::FusedNode;
use ort_core::plugin::{Host, Partition};
use ort_core::{Error, Value};
use vulkano::command_buffer::{AutoCommandBufferBuilder, CommandBufferUsage};
use vulkano::sync::{self, GpuFuture};

use crate::gpu::Gpu;
use crate::ops::{self, numel, Op, Operand};

/// Where a step reads a value from.
#[derive(Clone, Copy, Debug)]
enum Src {
    Input(usize),
    Const(usize),
    Step(usize),
}

struct Step {
    op: Op,
    inputs: Vec<Src>,
    /// Read back to the host after the run.
    is_output: bool,
    /// The node, for messages.
    what: String,
}

pub struct VulkanPartition {
    gpu: Arc<Gpu>,
    consts: Vec<Operand>,
    steps: Vec<Step>,
    outputs: Vec<Src>,
    /// Boundary inputs that are initializers: not uploaded again per run.
    const_inputs: Vec<Option<usize>>,
}

fn fail(what: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::fail(format!("{what}: {e}"))
}

impl VulkanPartition {
    pub fn compile(gpu: Arc<Gpu>, fused: &FusedNode<'_>) -> Result<VulkanPartition, Error> {
        let graph = fused.graph;
        let mut names: HashMap<&str, Src> = HashMap::new();
        let mut consts = Vec::new();
        let mut const_inputs = Vec::new();
        for (i, name) in fused.inputs.iter().enumerate() {
            let overridable = graph.inputs.iter().any(|g| g == name);
            match graph.initializer(name).filter(|_| !overridable) {
                Some(t) => {
                    let data = t.as_slice::<f32>()?;
                    let buf = gpu.upload(data).map_err(fail(&fused.name))?;
                    const_inputs.push(Some(consts.len()));
                    names.insert(name, Src::Const(consts.len()));
                    consts.push((buf, t.shape().to_vec()));
                }
                None => {
                    const_inputs.push(None);
                    names.insert(name, Src::Input(i));
                }
            }
        }
        let outputs_set: Vec<&str> = fused.outputs.iter().map(|s| s.as_str()).collect();
        let mut steps = Vec::new();
        for &idx in fused.nodes.iter() {
            let node = &graph.nodes[idx as usize];
            let op = ops::claim(node, graph)
                .map_err(|e| Error::invalid(format!("{}: {e}", node.describe())))?;
            let arity = match op {
                Op::Unary(_) => 1,
                _ => 2,
            };
            let inputs = node.inputs[..arity]
                .iter()
                .map(|v| {
                    names.get(v.as_str()).copied().ok_or_else(|| {
                        Error::invalid(format!("{}: input {v} is not available", node.describe()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = node.outputs[0].as_str();
            names.insert(out, Src::Step(steps.len()));
            steps.push(Step {
                op,
                inputs,
                is_output: outputs_set.contains(&out),
                what: node.describe(),
            });
        }
        let outputs = fused
            .outputs
            .iter()
            .map(|o| {
                names.get(o.as_str()).copied().ok_or_else(|| {
                    Error::invalid(format!("{}: output {o} is not made here", fused.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VulkanPartition {
            gpu,
            consts,
            steps,
            outputs,
            const_inputs,
        })
    }
}

impl Partition for VulkanPartition {
    fn compute(
        &self,
        inputs: &[Option<&Value>],
        host: &Host<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        let gpu = &self.gpu;
        let mut uploaded: Vec<Option<Operand>> = Vec::with_capacity(inputs.len());
        for (i, v) in inputs.iter().enumerate() {
            if self.const_inputs.get(i).copied().flatten().is_some() {
                uploaded.push(None);
                continue;
            }
            let t = v
                .ok_or_else(|| Error::invalid("a Vulkan partition input is missing"))?
                .tensor()?;
            let buf = gpu.upload(t.as_slice::<f32>()?).map_err(fail("upload"))?;
            uploaded.push(Some((buf, t.shape().to_vec())));
        }
        let mut builder = AutoCommandBufferBuilder::primary(
            gpu.commands.clone(),
            gpu.queue.queue_family_index(),
            CommandBufferUsage::OneTimeSubmit,
        )
        .map_err(|e| fail("command buffer")(e.to_string()))?;
        let mut made: Vec<Operand> = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let get = |s: &Src| -> Operand {
                match *s {
                    Src::Input(i) => uploaded[i]
                        .clone()
                        .expect("a non-constant input was uploaded"),
                    Src::Const(i) => self.consts[i].clone(),
                    Src::Step(i) => made[i].clone(),
                }
            };
            let ins: Vec<Operand> = step.inputs.iter().map(get).collect();
            let shapes: Vec<&[i64]> = ins.iter().map(|o| o.1.as_slice()).collect();
            let shape = step
                .op
                .shape(&shapes)
                .map_err(|e| Error::new(e.code, format!("{}: {}", step.what, e.message)))?;
            let buf = gpu
                .buffer(numel(&shape), step.is_output)
                .map_err(fail(&step.what))?;
            let out = (buf, shape);
            step.op
                .record(gpu, &mut builder, &ins, &out)
                .map_err(|e| Error::new(e.code, format!("{}: {}", step.what, e.message)))?;
            made.push(out);
        }
        let commands = builder
            .build()
            .map_err(|e| fail("command buffer")(e.to_string()))?;
        sync::now(gpu.device.clone())
            .then_execute(gpu.queue.clone(), commands)
            .map_err(|e| fail("submit")(e.to_string()))?
            .then_signal_fence_and_flush()
            .map_err(|e| fail("submit")(e.to_string()))?
            .wait(None)
            .map_err(|e| fail(&gpu.name)(e.to_string()))?;
        self.outputs
            .iter()
            .map(|s| {
                let (buf, shape) = match *s {
                    Src::Step(i) => &made[i],
                    Src::Const(i) => &self.consts[i],
                    Src::Input(i) => uploaded[i].as_ref().expect("uploaded"),
                };
                let n = numel(shape);
                let data = buf.read().map_err(|e| fail("read back")(e.to_string()))?;
                let t = host.tensor(shape, |o: &mut [f32]| o.copy_from_slice(&data[..n]))?;
                Ok(Some(Value::Tensor(t)))
            })
            .collect()
    }
}
