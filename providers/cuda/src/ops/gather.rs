//! Gather along an axis with host-integer indices (`gather_b*` in
//! `kernels/copy.cu`); indices are checked and wrapped on the host, then
//! copied to the device with the run's other work.

use cudarc::driver::{result, PushKernelArg};
use ort_core::kit::axis;
use ort_core::kit::Attributes;
use ort_core::{ElemType, Error, GraphView, NodeView};

use super::{elementwise, invalid, launch, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};

#[derive(Clone, Debug)]
pub struct Gather {
    pub axis: i64,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    if !node.is_onnx("Gather") {
        return Ok(None);
    }
    let g = Gather {
        axis: node.attr_int("axis", 0)?,
    };
    Ok(Some(Claim::one(Lowered::inputs(g, 1).with_ints(vec![1]))))
}

impl Kernel for Gather {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        let a = axis(self.axis, x.len())?;
        let mut out = x[..a].to_vec();
        out.extend(&ints[0].shape);
        out.extend(&x[a + 1..]);
        Ok(out)
    }
    fn launch(&self, cx: &Cx<'_>, io: Io<'_>) -> Result<(), Error> {
        let Io { inputs, ints, out } = io;
        let x = &inputs[0];
        let a = axis(self.axis, x.shape.len())?;
        let d = x.shape[a];
        let idx = ints[0]
            .data
            .iter()
            .map(|&i| {
                let j = if i < 0 { i + d } else { i };
                if (0..d).contains(&j) {
                    Ok(j)
                } else {
                    Err(invalid(format!(
                        "Gather index {i} is out of range for an axis of {d}"
                    )))
                }
            })
            .collect::<Result<Vec<i64>, Error>>()?;
        let dev = cx.alloc(&[idx.len() as i64], ElemType::I64)?;
        // SAFETY: `dev` holds idx.len() int64s; the copy is pageable, so the driver
        // stages `idx` before this call returns.
        unsafe { result::memcpy_htod_async(dev.ptr(), &idx[..], cx.lane.stream.cu_stream()) }
            .map_err(|e| Error::fail(format!("copying Gather indices: {e:?}")))?;
        let outer: i64 = x.shape[..a].iter().product();
        let inner: i64 = x.shape[a + 1..].iter().product();
        let f = cx.move_fn("gather", out.elem)?;
        let (xp, ip, yp, count) = (x.ptr(), dev.ptr(), out.ptr(), idx.len() as i64);
        let mut args = cx.args(f);
        args.arg(&xp)
            .arg(&ip)
            .arg(&yp)
            .arg(&outer)
            .arg(&d)
            .arg(&inner)
            .arg(&count);
        launch(args, elementwise(out.len()), "gather")?;
        // The indices block must outlive the launch: the partition keeps step
        // temporaries until its stream is synchronized.
        cx.keep(dev);
        Ok(())
    }
}
