//! MatMul with numpy batch broadcasting (`shaders/matmul.wgsl`, 16×16 tiles in
//! workgroup memory). Operands of rank 1 are declined: the CPU takes them.

use ort_core::{Error, GraphView, NodeView};

use super::{
    binary::broadcast, dispatch, is, numel, Builder, Claim, Ints, Io, Kernel, Lower, Lowered,
    Operand,
};
use crate::gpu::Gpu;

/// Either operand may be stored with its last two axes swapped.
#[derive(Clone, Debug)]
pub struct MatMul {
    pub trans: [bool; 2],
}

pub fn claim(node: &NodeView<'_>, graph: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !is(node, "MatMul") {
        return Ok(None);
    }
    check(&node.inputs[..2], graph)?;
    Ok(Some(Claim::one(Lowered::inputs(
        MatMul { trans: [false; 2] },
        2,
    ))))
}

pub fn check(operands: &[ort_core::RString], graph: &GraphView<'_>) -> Result<(), String> {
    for v in operands {
        match graph.rank_of(v) {
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
/// The rows and columns of y one workgroup computes (`shaders/matmul.wgsl`).
const TILE: usize = 64;

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

/// The shapes as the product sees them: the last two axes swapped where stored
/// transposed.
pub fn logical(s: &[i64], trans: bool) -> Vec<i64> {
    let mut s = s.to_vec();
    let r = s.len();
    if trans && r >= 2 {
        s.swap(r - 1, r - 2);
    }
    s
}

impl Kernel for MatMul {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        let t = self.trans;
        shape(&logical(inputs[0], t[0]), &logical(inputs[1], t[1])).map(|(s, _)| s)
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out: y, .. } = io;
        record(gpu, b, &inputs[0], &inputs[1], y, self.trans)
    }
}

fn record(
    gpu: &Gpu,
    b: &mut Builder,
    x: &Operand,
    z: &Operand,
    y: &Operand,
    trans: [bool; 2],
) -> Result<(), Error> {
    let (xs, zs) = (logical(&x.1, trans[0]), logical(&z.1, trans[1]));
    let (out, strides) = shape(&xs, &zs)?;
    let r = out.len();
    let (m, n) = (out[r - 2] as usize, out[r - 1] as usize);
    let k = xs[xs.len() - 1] as usize;
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
        || m.div_ceil(TILE) > 65_535
        || n.div_ceil(TILE) > 65_535
    {
        return Err(Error::not_implemented(format!(
            "MatMul to {out:?} is too large for one Vulkan dispatch"
        )));
    }
    let mut pc = [0u32; 20];
    pc[16] = trans[0] as u32;
    pc[17] = trans[1] as u32;
    pc[..4].copy_from_slice(&[m as u32, n as u32, k as u32, (r - 2) as u32]);
    for (j, (d, [sa, sb])) in out[..r - 2].iter().zip(strides).enumerate() {
        pc[4 + j] = *d as u32;
        pc[8 + j] = sa;
        pc[12 + j] = sb;
    }
    let groups = [
        n.div_ceil(TILE) as u32,
        m.div_ceil(TILE) as u32,
        batch as u32,
    ];
    dispatch(
        gpu,
        b,
        &gpu.pipelines.matmul,
        &[&x.0, &z.0, &y.0],
        pc,
        groups,
    )
}
