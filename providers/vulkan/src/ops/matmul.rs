//! MatMul with numpy batch broadcasting (`shaders/matmul.wgsl`, 16×16 tiles in
//! workgroup memory). Operands of rank 1 are declined: the CPU takes them.

use ort_core::{Error, GraphView, NodeView};

use super::{binary::broadcast, dispatch, numel, rank, Builder, Operand};
use crate::gpu::Gpu;

pub fn check(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<(), String> {
    for v in &node.inputs[..2] {
        match rank(graph, v) {
            Some(r) if (2..=2 + MAX_BATCH_RANK).contains(&r) => {}
            Some(r) => {
                return Err(format!(
                    "{v} has rank {r}; the Vulkan MatMul takes ranks 2 to 6"
                ))
            }
            None => return Err(format!("the rank of {v} is not known")),
        }
    }
    Ok(())
}

/// The shader's limit on batch axes.
const MAX_BATCH_RANK: usize = 4;

/// Output shape, and per output batch axis the element strides of a and b (0
/// where that operand is broadcast along the axis).
pub fn shape(a: &[i64], b: &[i64]) -> Result<(Vec<i64>, Vec<[u32; 2]>), Error> {
    let (ra, rb) = (a.len(), b.len());
    if ra < 2 || rb < 2 || a[ra - 1] != b[rb - 2] {
        return Err(Error::invalid(format!(
            "MatMul of {a:?} and {b:?}: inner dims differ"
        )));
    }
    let (m, k, n) = (a[ra - 2], a[ra - 1], b[rb - 1]);
    let batch = broadcast(&a[..ra - 2], &b[..rb - 2])?;
    let strides_of = |s: &[i64], mat: i64| -> Vec<u32> {
        let off = batch.len() - s.len();
        let mut st = vec![0u32; batch.len()];
        let mut acc = mat;
        for j in (0..s.len()).rev() {
            if s[j] != 1 {
                st[j + off] = acc as u32;
            }
            acc *= s[j].max(1);
        }
        st
    };
    let (sa, sb) = (
        strides_of(&a[..ra - 2], m * k),
        strides_of(&b[..rb - 2], k * n),
    );
    let strides = sa.into_iter().zip(sb).map(|(x, y)| [x, y]).collect();
    let mut out = batch;
    out.extend([m, n]);
    Ok((out, strides))
}

pub fn record(
    gpu: &Gpu,
    b: &mut Builder,
    x: &Operand,
    z: &Operand,
    y: &Operand,
) -> Result<(), Error> {
    let (out, strides) = shape(&x.1, &z.1)?;
    let r = out.len();
    let (m, n) = (out[r - 2] as usize, out[r - 1] as usize);
    let k = x.1[x.1.len() - 1] as usize;
    let batch = numel(&out[..r - 2]);
    if m * n == 0 || batch == 0 {
        return Ok(());
    }
    if k == 0 {
        // An empty sum: zeros.
        let words = y.0.clone().reinterpret::<[u32]>();
        b.fill_buffer(words, 0)
            .map_err(|e| super::vk("fill")(Box::new(e)))?;
        return Ok(());
    }
    if r - 2 > MAX_BATCH_RANK
        || batch > 65_535
        || m.div_ceil(16) > 65_535
        || n.div_ceil(16) > 65_535
    {
        return Err(Error::not_implemented(format!(
            "MatMul to {out:?} is too large for one Vulkan dispatch"
        )));
    }
    let mut pc = [0u32; 16];
    pc[..4].copy_from_slice(&[m as u32, n as u32, k as u32, (r - 2) as u32]);
    for (j, (d, [sa, sb])) in out[..r - 2].iter().zip(strides).enumerate() {
        pc[4 + j] = *d as u32;
        pc[8 + j] = sa;
        pc[12 + j] = sb;
    }
    let groups = [n.div_ceil(16) as u32, m.div_ceil(16) as u32, batch as u32];
    dispatch(
        gpu,
        b,
        &gpu.pipelines.matmul,
        &[&x.0, &z.0, &y.0],
        pc,
        groups,
    )
}
