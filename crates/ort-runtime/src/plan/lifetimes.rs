//! Lifetimes: for each step, the values whose last reader it is (or that it
//! produces for nobody), dropped right after it so the arena reuses their buffers.

use super::{Step, StepKind};

pub fn free_after(steps: &[Step], n: usize, outputs: &[usize]) -> Vec<Vec<usize>> {
    let mut last: Vec<Option<usize>> = vec![None; n];
    for (s, step) in steps.iter().enumerate() {
        for i in step.inputs.iter().flatten() {
            last[*i] = Some(s);
        }
        let caps: Vec<usize> = match &step.kind {
            StepKind::If {
                then_branch,
                else_branch,
            } => then_branch
                .parent_ids
                .iter()
                .chain(&else_branch.parent_ids)
                .copied()
                .collect(),
            StepKind::Loop { body }
            | StepKind::Scan { body, .. }
            | StepKind::SequenceMap { body } => body.parent_ids.clone(),
            _ => vec![],
        };
        for c in caps {
            last[c] = Some(s);
        }
        for o in step.outputs.iter().flatten() {
            if last[*o].is_none() {
                last[*o] = Some(s);
            }
        }
    }
    for &o in outputs {
        last[o] = None;
    }
    let mut free = vec![Vec::new(); steps.len()];
    for (v, l) in last.into_iter().enumerate() {
        if let Some(s) = l {
            free[s].push(v);
        }
    }
    free
}
