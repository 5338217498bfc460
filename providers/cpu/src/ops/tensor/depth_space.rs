//! DepthToSpace and SpaceToDepth: 6-D transposes of a 4-D tensor.

use ort_core::{Error, Value};

use super::strided;
use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{ANY, LATEST};
use crate::util::strides_of;

struct DepthSpace {
    to_space: bool,
    crd: bool,
    bs: i64,
}

impl Kernel for DepthSpace {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        if x.rank() != 4 {
            return Err(Error::invalid(
                "DepthToSpace/SpaceToDepth input must be 4-D",
            ));
        }
        let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
        let bs = self.bs;
        // The input viewed as 6-D, the permutation, and the output shape.
        let (six, perm, out) = if self.to_space {
            if c % (bs * bs) != 0 {
                return Err(Error::invalid(format!(
                    "DepthToSpace channels {c} are not a multiple of blocksize² {}",
                    bs * bs
                )));
            }
            let cc = c / (bs * bs);
            let out = [n, cc, h * bs, w * bs];
            if self.crd {
                ([n, cc, bs, bs, h, w], [0, 1, 4, 2, 5, 3], out)
            } else {
                ([n, bs, bs, cc, h, w], [0, 3, 4, 1, 5, 2], out)
            }
        } else {
            if h % bs != 0 || w % bs != 0 {
                return Err(Error::invalid(format!(
                    "SpaceToDepth height {h} and width {w} must be multiples of blocksize {bs}"
                )));
            }
            let six = [n, c, h / bs, bs, w / bs, bs];
            let out = [n, c * bs * bs, h / bs, w / bs];
            if self.crd {
                (six, [0, 1, 3, 5, 2, 4], out)
            } else {
                (six, [0, 3, 5, 1, 2, 4], out)
            }
        };
        let d6: Vec<usize> = six.iter().map(|&v| v as usize).collect();
        let st = strides_of(&d6);
        let shape: Vec<usize> = perm.iter().map(|&p| d6[p]).collect();
        let strides: Vec<isize> = perm.iter().map(|&p| st[p]).collect();
        one(strided(ctx, x, &out, 0, &shape, &strides)?)
    }
}

fn build(to_space: bool, n: &crate::kernel::NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let bs = n.int("blocksize", 0)?;
    if bs < 1 {
        return Err(Error::invalid(format!("blocksize {bs} must be positive")));
    }
    let crd = match n.string("mode", "DCR")?.as_str() {
        "DCR" => false,
        "CRD" => true,
        m => return Err(Error::invalid(format!("unknown mode '{m}'"))),
    };
    Ok(Box::new(DepthSpace { to_space, crd, bs }))
}

crate::register!("DepthToSpace", [1, LATEST], ANY, |n| build(true, n));
crate::register!("SpaceToDepth", [1, LATEST], ANY, |n| build(false, n));
