//! Elementwise binary ops with numpy broadcasting (`shaders/binary.wgsl`): one
//! pipeline, the op chosen by a code in the push constants.

use ort_core::{Error, GraphView, NodeView};

use super::{dispatch, grid, is, numel, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

/// The shader's limit on the broadcast rank (two vec4 of dims).
pub const MAX_RANK: usize = 8;

#[derive(Clone, Debug)]
pub struct Binary {
    code: u32,
}

impl Binary {
    pub const ADD: Binary = Binary { code: 0 };
    pub const SUB: Binary = Binary { code: 1 };
    pub const MUL: Binary = Binary { code: 2 };
    pub const DIV: Binary = Binary { code: 3 };
}

/// Op codes, as the shader numbers them. Max and Min take exactly two inputs here.
const CODES: &[(&str, u32)] = &[
    ("Add", 0),
    ("Sub", 1),
    ("Mul", 2),
    ("Div", 3),
    ("Pow", 4),
    ("Max", 5),
    ("Min", 6),
    ("PRelu", 7),
];

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let Some(&(op, code)) = CODES.iter().find(|(n, _)| is(node, n)) else {
        return Ok(None);
    };
    if node.inputs.len() != 2 {
        return Err(format!(
            "{op} of {} inputs: the shader takes two",
            node.inputs.len()
        ));
    }
    if op == "PRelu" && node.opset < 7 {
        return Err("PRelu before opset 7 does not broadcast".into());
    }
    Ok(Some(Claim::one(Lowered::inputs(Binary { code }, 2))))
}

pub use ort_core::kit::{broadcast, broadcast_strides};

/// The dispatch grid and push constants of `binary.wgsl` and `where.wgsl`: the
/// output's shape and the broadcast strides of the two operands `a` and `b`.
pub fn constants(
    code: u32,
    out: &[i64],
    a: &[i64],
    b: &[i64],
) -> Result<([u32; 3], [u32; 28]), Error> {
    if out.len() > MAX_RANK {
        return Err(Error::not_implemented(format!(
            "Vulkan broadcasting is limited to rank {MAX_RANK}, got {out:?}"
        )));
    }
    let n = numel(out);
    let (groups, row) = grid(n)?;
    let mut pc = [0u32; 28];
    pc[..4].copy_from_slice(&[n as u32, out.len() as u32, code, row]);
    for (k, &d) in out.iter().enumerate() {
        pc[4 + k] = d as u32;
    }
    for (k, s) in broadcast_strides(a, out).into_iter().enumerate() {
        pc[12 + k] = s as u32;
    }
    for (k, s) in broadcast_strides(b, out).into_iter().enumerate() {
        pc[20 + k] = s as u32;
    }
    Ok((groups, pc))
}

impl Kernel for Binary {
    fn shape(&self, inputs: &[&[i64]], _: &[Ints]) -> Result<Vec<i64>, Error> {
        broadcast(inputs[0], inputs[1])
    }

    fn record(&self, gpu: &Gpu, b: &mut Builder, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, out: y, .. } = io;
        let (x, z) = (&inputs[0], &inputs[1]);
        if numel(&y.1) == 0 {
            return Ok(());
        }
        let (groups, pc) = constants(self.code, &y.1, &x.1, &z.1)?;
        dispatch(
            gpu,
            b,
            &gpu.pipelines.binary,
            &[&x.0, &z.0, &y.0],
            pc,
            groups,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_and_strides() {
        assert_eq!(broadcast(&[2, 1, 4], &[3, 1]).unwrap(), vec![2, 3, 4]);
        assert!(broadcast(&[2, 3], &[4, 3, 2]).is_err());
        assert_eq!(broadcast_strides(&[3, 1], &[2, 3, 4]), vec![0, 1, 0]);
        assert_eq!(broadcast_strides(&[2, 1, 4], &[2, 3, 4]), vec![4, 0, 1]);
    }
}
