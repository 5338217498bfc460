//! A compiled partition: the group's nodes lowered to steps. Float inputs arrive
//! and outputs leave as tensors in device memory (`memory.rs`); host integers
//! (shapes, axes, indices, conditions) are asked for in host memory. Each
//! `compute` records every step into one command buffer, submits it and waits.

use std::collections::HashMap;
use std::sync::Arc;

use ort_core::abi::FusedNode;
use ort_core::plugin::{Host, Partition};
use ort_core::{DeviceId, ElemType, Error, Value};
use vulkano::command_buffer::{AutoCommandBufferBuilder, CommandBufferUsage};

use crate::gpu::Gpu;
use crate::memory;
use crate::ops::{self, numel, Arg, Ints, Io, Kernel, Operand};

/// Where a step reads a float operand.
#[derive(Clone, Copy, Debug)]
enum Src {
    /// A partition input.
    Input(usize),
    /// A constant the lowering made (a scalar, folded parameters).
    Const(usize),
    /// Another step's output.
    Step(usize),
}

/// Where a step reads host integers.
#[derive(Clone, Debug)]
enum IntSrc {
    Const(Ints),
    Input(usize),
}

#[derive(Debug)]
struct Step {
    op: Arc<dyn Kernel>,
    inputs: Vec<Src>,
    ints: Vec<IntSrc>,
    /// The node, for messages.
    what: String,
}

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

fn context(what: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| Error::new(e.code, format!("{what}: {}", e.message))
}

impl VulkanPartition {
    pub fn compile(
        gpu: Arc<Gpu>,
        fused: &FusedNode<'_>,
        f16: bool,
    ) -> Result<VulkanPartition, Error> {
        let graph = fused.graph;
        let mut consts: Vec<Operand> = Vec::new();
        let mut floats: HashMap<&str, Src> = HashMap::new();
        for (i, name) in fused.inputs.iter().enumerate() {
            // Initializers too: the host transfers them once per session.
            floats.insert(name, Src::Input(i));
        }
        let mut steps: Vec<Step> = Vec::new();
        for &idx in fused.nodes.iter() {
            let node = &graph.nodes[idx as usize];
            let what = node.describe();
            let claim =
                ops::claim(node, graph, f16).map_err(|e| Error::invalid(format!("{what}: {e}")))?;
            let name = |k: usize| node.inputs.get(k).map(|s| s.as_str()).unwrap_or("");
            let first = steps.len();
            for low in claim.steps {
                let mut inputs = Vec::with_capacity(low.args.len());
                for a in &low.args {
                    inputs.push(match a {
                        Arg::Input(k) => *floats.get(name(*k)).ok_or_else(|| {
                            Error::invalid(format!("{what}: input {:?} is not available", name(*k)))
                        })?,
                        Arg::Prev(p) => Src::Step(first + p),
                        Arg::Scalar(v) => {
                            consts.push((gpu.upload(&[*v]).map_err(fail(&what))?, vec![]));
                            Src::Const(consts.len() - 1)
                        }
                        Arg::Tensor(data, shape) => {
                            consts.push((gpu.upload(data).map_err(fail(&what))?, shape.clone()));
                            Src::Const(consts.len() - 1)
                        }
                    });
                }
                let mut ints = Vec::with_capacity(low.ints.len());
                for &k in &low.ints {
                    let v = name(k);
                    ints.push(match (graph.constant(v), floats.get(v)) {
                        (Some(t), _) => {
                            IntSrc::Const(Ints::from_tensor(t).map_err(context(&what))?)
                        }
                        (None, Some(&Src::Input(i))) => IntSrc::Input(i),
                        _ => {
                            return Err(Error::invalid(format!(
                                "{what}: the integers {v:?} are not a host input"
                            )))
                        }
                    });
                }
                steps.push(Step {
                    op: low.op,
                    inputs,
                    ints,
                    what: what.clone(),
                });
            }
            for (o, &s) in node.outputs.iter().zip(&claim.outputs) {
                if !o.is_empty() {
                    floats.insert(o, Src::Step(first + s));
                }
            }
        }
        let outputs = fused
            .outputs
            .iter()
            .map(|o| {
                floats.get(o.as_str()).copied().ok_or_else(|| {
                    Error::invalid(format!("{}: output {o} is not made here", fused.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut on_device = vec![false; fused.inputs.len()];
        for s in steps.iter().flat_map(|s| &s.inputs) {
            if let Src::Input(i) = *s {
                on_device[i] = true;
            }
        }
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

    fn compute(
        &self,
        inputs: &[Option<&Value>],
        _: &Host<'_>,
    ) -> Result<Vec<Option<Value>>, Error> {
        let gpu = &self.gpu;
        let mut operands: Vec<Option<Operand>> = Vec::with_capacity(inputs.len());
        for (i, v) in inputs.iter().enumerate() {
            if !self.on_device[i] {
                operands.push(None);
                continue;
            }
            let t = v
                .ok_or_else(|| Error::invalid(format!("Vulkan partition input {i} is missing")))?
                .tensor()?;
            // A host tensor (from a host that did not transfer it) is uploaded here.
            let buf = match memory::unwrap(gpu, t) {
                Some(b) => b,
                None => gpu
                    .upload(&memory::host_floats(t)?)
                    .map_err(fail("upload"))?,
            };
            operands.push(Some((buf, t.shape().to_vec())));
        }
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
