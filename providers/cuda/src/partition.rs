//! A compiled partition: the group's nodes lowered to steps. Device inputs
//! arrive and outputs leave in CUDA memory (`memory.rs`); host integers
//! (shapes, axes, indices) are asked for in host memory. Each `compute` takes
//! a lane, launches every step on its stream and waits for it once.

use std::cell::RefCell;
use std::sync::Arc;

use half::{bf16, f16};
use ort_core::abi::FusedNode;
use ort_core::kit;
use ort_core::kit::lower::{context, IntSrc, Program, Src};
use ort_core::plugin::{Host, Outputs, Partition};
use ort_core::{DeviceId, ElemType, Error, Tensor, Value};

use crate::driver::{Gpu, Lane};
use crate::memory::{self, Operand};
use crate::ops::{self, Cx, Ints, Io, Kernel};

type Step = ort_core::kit::lower::Step<dyn Kernel>;

pub struct CudaPartition {
    gpu: Arc<Gpu>,
    consts: Vec<Operand>,
    steps: Vec<Step>,
    outputs: Vec<Src>,
    /// Per partition input: whether a step reads it in device memory.
    on_device: Vec<bool>,
}

/// A compile-time float32 tensor in the node's float type.
fn constant(data: &[f32], shape: &[i64], elem: ElemType) -> Result<Tensor, Error> {
    match elem {
        ElemType::F16 => Tensor::from_vec(shape, data.iter().map(|&v| f16::from_f32(v)).collect()),
        ElemType::BF16 => {
            Tensor::from_vec(shape, data.iter().map(|&v| bf16::from_f32(v)).collect())
        }
        _ => Tensor::from_vec(shape, data.to_vec()),
    }
}

impl CudaPartition {
    pub fn compile(gpu: Arc<Gpu>, fused: &FusedNode<'_>) -> Result<CudaPartition, Error> {
        let graph = fused.graph;
        let mut consts: Vec<Operand> = Vec::new();
        gpu.bind().map_err(Error::fail)?;
        let mut lane = gpu.lane().map_err(Error::fail)?;
        let program = Program::lower(
            fused,
            |node| ops::claim(node, graph),
            |node, data, shape| {
                // Constants are stored in the node's output type.
                let elem = node
                    .outputs
                    .first()
                    .and_then(|o| graph.elem_of(o))
                    .unwrap_or(ElemType::F32);
                let t = constant(data, shape, elem)?;
                consts.push(memory::upload(&gpu, &mut lane, &t)?);
                Ok(consts.len() - 1)
            },
        );
        gpu.give_back(lane);
        let Program {
            steps,
            outputs,
            on_device,
        } = program?;
        Ok(CudaPartition {
            gpu,
            consts,
            steps,
            outputs,
            on_device,
        })
    }

    /// Resolves the inputs and launches every step; returns the inputs and the
    /// steps' outputs. Everything a launch may read is also put in `hold`, which
    /// the caller keeps until the stream has finished, error or not.
    fn launch_all(
        &self,
        inputs: &[Option<&Value>],
        lane: &mut Lane,
        hold: &RefCell<Vec<Operand>>,
    ) -> Result<Made, Error> {
        let gpu = &*self.gpu;
        let operands = kit::device_inputs(inputs, &self.on_device, "CUDA", |i, t| {
            let op = match memory::unwrap(gpu, t) {
                Some(op) => op,
                // A host tensor (from a host that did not transfer it) is uploaded here.
                None if t.device().host_readable() => memory::upload(gpu, lane, t)?,
                None => {
                    return Err(Error::invalid(format!(
                        "CUDA partition input {i} is in {:?}, not this device's memory",
                        t.device()
                    )))
                }
            };
            hold.borrow_mut().push(op.clone());
            Ok(op)
        })?;
        let cx = Cx {
            gpu,
            lane,
            temps: hold,
        };
        let mut made: Vec<Operand> = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            let get = |s: &Src| -> Operand {
                match *s {
                    Src::Input(i) => operands[i]
                        .clone()
                        .expect("device inputs are resolved above"),
                    Src::Const(i) => self.consts[i].clone(),
                    Src::Step(i) => made[i].clone(),
                }
            };
            let ins: Vec<Operand> = step.inputs.iter().map(get).collect();
            let ints = step
                .ints
                .iter()
                .map(|s| match s {
                    IntSrc::Const(v) => Ok(v.clone()),
                    IntSrc::Input(i) => {
                        let v =
                            inputs[*i].ok_or_else(|| Error::invalid("integer input missing"))?;
                        Ints::from_tensor(v.tensor()?)
                    }
                })
                .collect::<Result<Vec<Ints>, Error>>()
                .map_err(context(&step.what))?;
            let shapes: Vec<&[i64]> = ins.iter().map(|o| o.shape.as_slice()).collect();
            let shape = step.op.shape(&shapes, &ints).map_err(context(&step.what))?;
            let out = if step.op.is_view() {
                ins[0].view(shape)
            } else {
                let elems: Vec<ElemType> = ins.iter().map(|o| o.elem).collect();
                let out = cx
                    .alloc(&shape, step.op.elem(&elems))
                    .map_err(context(&step.what))?;
                hold.borrow_mut().push(out.clone());
                // An empty output has nothing to compute; kernels need not check.
                if !out.is_empty() {
                    step.op
                        .launch(
                            &cx,
                            Io {
                                inputs: &ins,
                                ints: &ints,
                                out: &out,
                            },
                        )
                        .map_err(context(&step.what))?;
                }
                out
            };
            made.push(out);
        }
        Ok(Made {
            inputs: operands,
            steps: made,
        })
    }
}

/// A compute's resolved inputs and step outputs.
struct Made {
    inputs: Vec<Option<Operand>>,
    steps: Vec<Operand>,
}

impl Partition for CudaPartition {
    fn input_memory(&self, index: usize) -> Option<DeviceId> {
        // Inputs no step reads on the device are host integers, or unused.
        (!self.on_device[index]).then_some(DeviceId::HOST)
    }

    fn compute(&self, inputs: &[Option<&Value>], _: &Host<'_>) -> Outputs {
        let gpu = &self.gpu;
        gpu.bind().map_err(Error::fail)?;
        let mut lane = gpu.lane().map_err(Error::fail)?;
        let hold = RefCell::new(Vec::new());
        let result = self.launch_all(inputs, &mut lane, &hold);
        // Whatever happened, nothing may still run on the lane when it is reused.
        let synced = lane
            .stream
            .synchronize()
            .map_err(|e| Error::fail(format!("{}: {e:?}", gpu.name)));
        gpu.give_back(lane);
        drop(hold);
        let made = result?;
        synced?;
        self.outputs
            .iter()
            .map(|&s| {
                let op = match s {
                    Src::Input(i) => made.inputs[i]
                        .clone()
                        .ok_or_else(|| Error::invalid("a passed-through input is missing"))?,
                    Src::Const(i) => self.consts[i].clone(),
                    Src::Step(i) => made.steps[i].clone(),
                };
                Ok(Some(Value::Tensor(memory::wrap(gpu, op)?)))
            })
            .collect()
    }
}
