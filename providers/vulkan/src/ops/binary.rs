//! Elementwise binary ops with numpy broadcasting (`shaders/binary.wgsl`).

use ort_core::{Error, NodeView};

use super::{dispatch, grid, numel, Builder, Operand};
use crate::gpu::Gpu;

/// The shader's limit on the broadcast rank (two vec4 of dims).
pub const MAX_RANK: usize = 8;

#[derive(Clone, Debug)]
pub struct Binary {
    code: u32,
}

/// The binary op `node` is, if it is one (Max and Min with exactly two inputs).
pub fn claim(node: &NodeView<'_>) -> Option<Binary> {
    let code = match node.op_type.as_str() {
        "Add" => 0,
        "Sub" => 1,
        "Mul" => 2,
        "Div" => 3,
        "Pow" => 4,
        "Max" if node.inputs.len() == 2 => 5,
        "Min" if node.inputs.len() == 2 => 6,
        _ => return None,
    };
    Some(Binary { code })
}

/// The numpy broadcast of two shapes.
pub fn broadcast(a: &[i64], b: &[i64]) -> Result<Vec<i64>, Error> {
    let r = a.len().max(b.len());
    let dim = |s: &[i64], k: usize| {
        if k + s.len() < r {
            1
        } else {
            s[k + s.len() - r]
        }
    };
    (0..r)
        .map(|k| match (dim(a, k), dim(b, k)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(Error::invalid(format!(
                "shapes {a:?} and {b:?} do not broadcast"
            ))),
        })
        .collect()
}

/// Strides of `s` (row-major) read along the axes of `out`: 0 where `s` has
/// that axis as 1 or not at all.
fn strides(s: &[i64], out: &[i64]) -> Vec<u32> {
    let off = out.len() - s.len();
    let mut st = vec![0u32; out.len()];
    let mut acc = 1u32;
    for k in (0..s.len()).rev() {
        if s[k] != 1 {
            st[k + off] = acc;
        }
        acc *= s[k].max(1) as u32;
    }
    st
}

impl Binary {
    pub fn record(
        &self,
        gpu: &Gpu,
        b: &mut Builder,
        x: &Operand,
        z: &Operand,
        y: &Operand,
    ) -> Result<(), Error> {
        let out = &y.1;
        let n = numel(out);
        if n == 0 {
            return Ok(());
        }
        if out.len() > MAX_RANK {
            return Err(Error::not_implemented(format!(
                "Vulkan broadcasting is limited to rank {MAX_RANK}, got {out:?}"
            )));
        }
        let (groups, row) = grid(n)?;
        let mut pc = [0u32; 28];
        pc[..4].copy_from_slice(&[n as u32, out.len() as u32, self.code, row]);
        for (k, &d) in out.iter().enumerate() {
            pc[4 + k] = d as u32;
        }
        for (k, s) in strides(&x.1, out).into_iter().enumerate() {
            pc[12 + k] = s;
        }
        for (k, s) in strides(&z.1, out).into_iter().enumerate() {
            pc[20 + k] = s;
        }
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
        assert_eq!(strides(&[3, 1], &[2, 3, 4]), vec![0, 1, 0]);
        assert_eq!(strides(&[2, 1, 4], &[2, 3, 4]), vec![4, 0, 1]);
    }
}
