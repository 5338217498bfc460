//! Runs a plan: steps in order over a value table, dropping each value after its last
//! use. If / Loop / Scan run here, in the host, over their own sub-plans.

use std::time::Instant;

use ort_core::abi::{RBox, RVec};
use ort_core::{ElemType, Tensor, Value};

use crate::arena::Arena;
use crate::error::{Error, ErrorKind, Result};
use crate::host_ops;
use crate::plan::{Plan, ScanAttrs, Step, StepKind, SubPlan};
use crate::profile::Profiler;

pub struct Exec<'a> {
    pub arena: &'a Arena,
    pub profiler: Option<&'a Profiler>,
}

impl Exec<'_> {
    /// Runs `plan` with its runtime inputs (in order; `None` = left out) and captured
    /// outer values; returns its outputs in order.
    pub fn run(
        &self,
        plan: &Plan,
        inputs: Vec<Option<Value>>,
        captures: Vec<Value>,
        overrides: Vec<(usize, Value)>,
    ) -> Result<Vec<Value>> {
        let mut env: Vec<Option<Value>> = vec![None; plan.names.len()];
        for (id, v) in &plan.constants {
            env[*id] = Some(v.clone());
        }
        for (id, v) in overrides {
            for c in plan.constant_copies.iter().filter(|c| c.src == id) {
                let t = v
                    .as_tensor()
                    .ok_or_else(|| Error::run("only tensors can be copied"))?;
                let moved = c
                    .via
                    .transfer(t, c.to)
                    .map_err(|e| Error::run(format!("copying '{}': {e}", plan.names[id])))?;
                env[c.dst] = Some(Value::Tensor(moved));
            }
            env[id] = Some(v);
        }
        for ((&id, v), d) in plan.inputs.iter().zip(inputs).zip(&plan.input_decls) {
            env[id] = as_declared(v, &d.ty);
        }
        for (&id, v) in plan.captures.iter().zip(captures) {
            env[id] = Some(v);
        }
        for (s, step) in plan.steps.iter().enumerate() {
            let start = Instant::now();
            let outs = self.step(step, &env).map_err(|e| match e.kind() {
                ErrorKind::Run => e.at_step(&step.label, &step.op, &step.provider),
                _ => e,
            })?;
            if let Some(p) = self.profiler {
                p.record(&step.label, &step.op, &step.provider, start);
            }
            for (slot, v) in step.outputs.iter().zip(outs) {
                if let Some(id) = slot {
                    env[*id] = v;
                }
            }
            for &id in &plan.free_after[s] {
                env[id] = None;
            }
        }
        plan.outputs
            .iter()
            .zip(&plan.output_decls)
            .map(|(&id, d)| {
                let v = env[id].take().ok_or_else(|| {
                    Error::run(format!("output '{}' was not produced", plan.names[id]))
                })?;
                Ok(as_declared(Some(v), &d.ty).unwrap_or_else(|| optional(None)))
            })
            .collect()
    }

    fn step(&self, step: &Step, env: &[Option<Value>]) -> Result<Vec<Option<Value>>> {
        let arg = |i: usize| {
            step.inputs
                .get(i)
                .copied()
                .flatten()
                .and_then(|id| env[id].as_ref())
        };
        match &step.kind {
            StepKind::Compute(part) => {
                let ins: Vec<Option<&Value>> = step
                    .inputs
                    .iter()
                    .map(|s| s.and_then(|id| env[id].as_ref()))
                    .collect();
                let outs = part
                    .compute(&ins, self.arena)
                    .map_err(|e| Error::run(e.to_string()))?;
                if outs.len() != step.outputs.len() {
                    return Err(Error::run(format!(
                        "partition returned {} outputs, expected {}",
                        outs.len(),
                        step.outputs.len()
                    )));
                }
                Ok(outs)
            }
            StepKind::Copy { via, to } => {
                let t = arg(0).ok_or_else(|| Error::run("copy of a missing value"))?;
                let t = t
                    .as_tensor()
                    .ok_or_else(|| Error::run("only tensors cross memories"))?;
                Ok(vec![Some(Value::Tensor(
                    via.transfer(t, *to)
                        .map_err(|e| Error::run(e.to_string()))?,
                ))])
            }
            StepKind::If {
                then_branch,
                else_branch,
            } => {
                let cond = scalar_bool(arg(0), "If condition")?;
                let branch = if cond { then_branch } else { else_branch };
                Ok(self
                    .sub(branch, vec![], env)?
                    .into_iter()
                    .map(Some)
                    .collect())
            }
            StepKind::Loop { body } => self.run_loop(body, step, env),
            StepKind::Scan { body, attrs } => self.run_scan(body, attrs, step, env),
            StepKind::SequenceMap { body } => self.run_sequence_map(body, step, env),
        }
    }

    fn sub(
        &self,
        sp: &SubPlan,
        inputs: Vec<Option<Value>>,
        env: &[Option<Value>],
    ) -> Result<Vec<Value>> {
        let captures = sp
            .parent_ids
            .iter()
            .map(|&id| {
                env[id]
                    .clone()
                    .ok_or_else(|| Error::run("a captured outer value is missing"))
            })
            .collect::<Result<Vec<_>>>()?;
        self.run(&sp.plan, inputs, captures, vec![])
    }

    fn run_loop(
        &self,
        body: &SubPlan,
        step: &Step,
        env: &[Option<Value>],
    ) -> Result<Vec<Option<Value>>> {
        let arg = |i: usize| {
            step.inputs
                .get(i)
                .copied()
                .flatten()
                .and_then(|id| env[id].as_ref())
        };
        let max_trip = match arg(0) {
            Some(v) => Some(scalar_i64(Some(v), "Loop M")?),
            None => None,
        };
        let mut cond = match arg(1) {
            Some(v) => scalar_bool(Some(v), "Loop cond")?,
            None => true,
        };
        let n_carried = step.inputs.len().saturating_sub(2);
        let mut carried: Vec<Value> = (0..n_carried)
            .map(|i| {
                arg(i + 2)
                    .cloned()
                    .ok_or_else(|| Error::run(format!("Loop: loop-carried input {i} is missing")))
            })
            .collect::<Result<_>>()?;
        let n_scan = body.plan.outputs.len().saturating_sub(1 + n_carried);
        let mut scans: Vec<Vec<Value>> = vec![Vec::new(); n_scan];
        let mut i: i64 = 0;
        while cond && max_trip.is_none_or(|m| i < m) {
            let mut ins: Vec<Option<Value>> = vec![
                Some(Value::Tensor(Tensor::scalar(i))),
                Some(Value::Tensor(Tensor::scalar(cond))),
            ];
            ins.extend(carried.drain(..).map(Some));
            let mut outs = self.sub(body, ins, env)?.into_iter();
            cond = scalar_bool(outs.next().as_ref(), "Loop body condition")?;
            carried = outs.by_ref().take(n_carried).collect();
            for (k, v) in outs.enumerate() {
                scans[k].push(v);
            }
            i += 1;
        }
        let mut result: Vec<Option<Value>> = carried.into_iter().map(Some).collect();
        for (k, items) in scans.into_iter().enumerate() {
            result.push(Some(stack_values(
                items,
                &body.plan.output_decls[1 + n_carried + k].ty,
            )?));
        }
        Ok(result)
    }

    /// SequenceMap: the body runs once per item of input 0; later inputs that are
    /// sequences (of the same length) give their item too, tensors are passed whole.
    /// Output `k` is the sequence of the body's output `k`.
    fn run_sequence_map(
        &self,
        body: &SubPlan,
        step: &Step,
        env: &[Option<Value>],
    ) -> Result<Vec<Option<Value>>> {
        let vals: Vec<&Value> = step
            .inputs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.and_then(|id| env[id].as_ref())
                    .ok_or_else(|| Error::run(format!("SequenceMap input {i} is missing")))
            })
            .collect::<Result<_>>()?;
        let len = match vals.first() {
            Some(Value::Sequence { items, .. }) => items.len(),
            Some(other) => {
                return Err(Error::run(format!(
                    "SequenceMap input 0 must be a sequence, got {}",
                    other.describe()
                )))
            }
            None => return Err(Error::run("SequenceMap needs an input sequence")),
        };
        for (i, v) in vals.iter().enumerate() {
            if let Value::Sequence { items, .. } = v {
                if items.len() != len {
                    return Err(Error::run(format!(
                        "SequenceMap input {i} has {} items, input 0 has {len}",
                        items.len()
                    )));
                }
            }
        }
        let n_out = body.plan.outputs.len();
        let mut acc: Vec<Vec<Value>> = vec![Vec::with_capacity(len); n_out];
        for it in 0..len {
            let ins: Vec<Option<Value>> = vals
                .iter()
                .map(|v| match v {
                    Value::Sequence { items, .. } => Some(items[it].clone()),
                    other => Some((*other).clone()),
                })
                .collect();
            for (k, v) in self.sub(body, ins, env)?.into_iter().enumerate() {
                acc[k].push(v);
            }
        }
        Ok(acc
            .into_iter()
            .enumerate()
            .map(|(k, items)| {
                let declared = match &body.plan.output_decls[k].ty {
                    ort_core::TypeInfo::Tensor { elem, .. } => *elem,
                    _ => ElemType::Undefined,
                };
                let elem = match items.first() {
                    Some(Value::Tensor(t)) => t.elem(),
                    _ => declared,
                };
                Some(Value::Sequence {
                    elem,
                    items: RVec::from(items),
                })
            })
            .collect())
    }

    fn run_scan(
        &self,
        body: &SubPlan,
        a: &ScanAttrs,
        step: &Step,
        env: &[Option<Value>],
    ) -> Result<Vec<Option<Value>>> {
        let mut vals: Vec<&Value> = Vec::new();
        for (i, s) in step.inputs.iter().enumerate() {
            match s.and_then(|id| env[id].as_ref()) {
                Some(v) => vals.push(v),
                None if a.batched && i == 0 => {}
                None => return Err(Error::run(format!("Scan input {i} is missing"))),
            }
        }
        if a.batched {
            if step.inputs.first().copied().flatten().is_some() {
                let lens = vals
                    .remove(0)
                    .tensor()
                    .map_err(|e| Error::run(e.to_string()))?
                    .to_i64_vec()
                    .map_err(|e| Error::run(e.to_string()))?;
                let k = a.num_scan_inputs;
                let full = vals
                    .get(vals.len().saturating_sub(k))
                    .and_then(|v| v.as_tensor())
                    .map(|t| t.shape().get(1).copied().unwrap_or(0));
                if lens.iter().any(|&l| Some(l) != full) {
                    return Err(Error::run(
                        "Scan-8 with sequence_lens shorter than the sequence is not supported",
                    ));
                }
            }
            return self.run_scan_batched(body, a, &vals, env);
        }
        self.scan_values(body, a, &vals, env)
    }

    /// Scan-8: the same scan for each batch entry (axis 0), outputs stacked on axis 0.
    fn run_scan_batched(
        &self,
        body: &SubPlan,
        a: &ScanAttrs,
        vals: &[&Value],
        env: &[Option<Value>],
    ) -> Result<Vec<Option<Value>>> {
        let ts: Vec<&Tensor> = vals
            .iter()
            .map(|v| {
                v.as_tensor()
                    .ok_or_else(|| Error::run("Scan inputs must be tensors"))
            })
            .collect::<Result<_>>()?;
        let batch = ts
            .first()
            .map_or(0, |t| t.shape().first().copied().unwrap_or(0)) as usize;
        let mut per_batch: Vec<Vec<Tensor>> = Vec::new();
        for b in 0..batch {
            let slices: Vec<Value> = ts
                .iter()
                .map(|t| host_ops::take(t, 0, b).map(Value::Tensor))
                .collect::<Result<_>>()?;
            let refs: Vec<&Value> = slices.iter().collect();
            let outs = self.scan_values(body, a, &refs, env)?;
            per_batch.push(
                outs.into_iter()
                    .map(|v| {
                        v.and_then(|v| v.into_tensor())
                            .ok_or_else(|| Error::run("Scan outputs must be tensors"))
                    })
                    .collect::<Result<_>>()?,
            );
        }
        let n_out = per_batch.first().map_or(0, |o| o.len());
        (0..n_out)
            .map(|j| {
                let items: Vec<Tensor> = per_batch.iter().map(|o| o[j].clone()).collect();
                host_ops::stack(&items, 0).map(|t| Some(Value::Tensor(t)))
            })
            .collect()
    }

    fn scan_values(
        &self,
        body: &SubPlan,
        a: &ScanAttrs,
        vals: &[&Value],
        env: &[Option<Value>],
    ) -> Result<Vec<Option<Value>>> {
        let k = a.num_scan_inputs;
        if k > vals.len() {
            return Err(Error::run("num_scan_inputs exceeds the inputs"));
        }
        let n_state = vals.len() - k;
        let scan_ins: Vec<&Tensor> = vals[n_state..]
            .iter()
            .map(|v| {
                v.as_tensor()
                    .ok_or_else(|| Error::run("Scan inputs must be tensors"))
            })
            .collect::<Result<_>>()?;
        let axis_of = |j: usize, t: &Tensor| -> Result<usize> {
            let ax = a.input_axes.get(j).copied().unwrap_or(0);
            let r = t.rank() as i64;
            let ax = if ax < 0 { ax + r } else { ax };
            if !(0..r).contains(&ax) {
                return Err(Error::run(format!("scan axis {ax} out of range")));
            }
            Ok(ax as usize)
        };
        let len = match scan_ins.first() {
            Some(t) => t.shape()[axis_of(0, t)?] as usize,
            None => 0,
        };
        let mut state: Vec<Value> = vals[..n_state].iter().map(|v| (*v).clone()).collect();
        let n_out = body.plan.outputs.len().saturating_sub(n_state);
        let mut outs_acc: Vec<Vec<Tensor>> = vec![Vec::new(); n_out];
        for it in 0..len {
            let mut ins: Vec<Option<Value>> = state.drain(..).map(Some).collect();
            for (j, t) in scan_ins.iter().enumerate() {
                let ax = axis_of(j, t)?;
                let idx = if a.input_dirs.get(j).copied().unwrap_or(0) == 1 {
                    len - 1 - it
                } else {
                    it
                };
                ins.push(Some(Value::Tensor(host_ops::take(t, ax, idx)?)));
            }
            let mut outs = self.sub(body, ins, env)?.into_iter();
            state = outs.by_ref().take(n_state).collect();
            for (j, v) in outs.enumerate() {
                outs_acc[j].push(
                    v.into_tensor()
                        .ok_or_else(|| Error::run("Scan outputs must be tensors"))?,
                );
            }
        }
        let mut result: Vec<Option<Value>> = state.into_iter().map(Some).collect();
        for (j, mut items) in outs_acc.into_iter().enumerate() {
            if a.output_dirs.get(j).copied().unwrap_or(0) == 1 {
                host_ops::reverse(&mut items);
            }
            let t = if items.is_empty() {
                let elem = body.plan.output_decls[n_state + j]
                    .ty
                    .elem()
                    .unwrap_or(ElemType::F32);
                empty_tensor(elem)?
            } else {
                let r = items[0].rank() as i64 + 1;
                let ax = a.output_axes.get(j).copied().unwrap_or(0);
                let ax = if ax < 0 { ax + r } else { ax };
                host_ops::stack(&items, ax as usize)?
            };
            result.push(Some(Value::Tensor(t)));
        }
        Ok(result)
    }
}

fn empty_tensor(elem: ElemType) -> Result<Tensor> {
    if elem == ElemType::String {
        return Tensor::from_vec::<ort_core::RString>(&[0], vec![])
            .map_err(|e| Error::run(e.to_string()));
    }
    Tensor::from_bytes(elem, &[0], vec![]).map_err(|e| Error::run(e.to_string()))
}

/// Loop scan outputs: tensors stack along a new axis 0; anything else becomes a sequence.
fn stack_values(items: Vec<Value>, ty: &ort_core::TypeInfo) -> Result<Value> {
    if items.is_empty() {
        return Ok(Value::Tensor(empty_tensor(
            ty.elem().unwrap_or(ElemType::F32),
        )?));
    }
    if items.iter().all(|v| v.as_tensor().is_some()) {
        let ts: Vec<Tensor> = items.into_iter().filter_map(|v| v.into_tensor()).collect();
        return Ok(Value::Tensor(host_ops::stack(&ts, 0)?));
    }
    let elem = match &items[0] {
        Value::Sequence { elem, .. } => *elem,
        _ => ElemType::Undefined,
    };
    Ok(Value::Sequence {
        elem,
        items: RVec::from(items),
    })
}

fn scalar_bool(v: Option<&Value>, what: &str) -> Result<bool> {
    let t = v
        .and_then(|v| v.as_tensor())
        .ok_or_else(|| Error::run(format!("{what} must be a tensor")))?;
    if t.len() != 1 {
        return Err(Error::run(format!(
            "{what} must have one element, has {}",
            t.len()
        )));
    }
    Ok(match t.elem() {
        ElemType::Bool => t
            .as_slice::<bool>()
            .map_err(|e| Error::run(e.to_string()))?[0],
        _ => {
            t.to_i64_vec()
                .map_err(|e| Error::run(format!("{what}: {e}")))?[0]
                != 0
        }
    })
}

fn scalar_i64(v: Option<&Value>, what: &str) -> Result<i64> {
    let t = v
        .and_then(|v| v.as_tensor())
        .ok_or_else(|| Error::run(format!("{what} must be a tensor")))?;
    let v = t
        .to_i64_vec()
        .map_err(|e| Error::run(format!("{what}: {e}")))?;
    v.first()
        .copied()
        .ok_or_else(|| Error::run(format!("{what} is empty")))
}

/// A value fed to (or produced for) a graph input or output of type `ty`: a plain
/// value where an optional is declared is wrapped in one, and a left-out optional
/// input becomes an empty optional. Loop-carried optionals rely on this: the body
/// may return the plain value it got out of the optional.
fn as_declared(v: Option<Value>, ty: &ort_core::TypeInfo) -> Option<Value> {
    match (v, ty) {
        (Some(v @ Value::Optional(_)), _) => Some(v),
        (v, ort_core::TypeInfo::Optional(_)) => Some(optional(v)),
        (v, _) => v,
    }
}

/// Wraps a value as an optional (used when feeding optional-typed graph inputs).
pub fn optional(v: Option<Value>) -> Value {
    Value::Optional(v.map(RBox::new).into())
}
