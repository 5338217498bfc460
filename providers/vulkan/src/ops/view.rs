//! Reshape, Flatten, Squeeze and Unsqueeze: a new shape over the same device
//! buffer, with no dispatch. Shapes and axes given as inputs are host integers.

use ort_core::kit::Attributes;
use ort_core::{Error, GraphView, NodeView};

use super::{is, numel, Builder, Claim, Ints, Io, Kernel, Lower, Lowered};
use crate::gpu::Gpu;

#[derive(Clone, Debug)]
pub enum View {
    /// The target is `shape` (Reshape-1) or else the host integers.
    Reshape {
        allowzero: bool,
        shape: Option<Vec<i64>>,
    },
    Flatten {
        axis: i64,
    },
    /// Axes from the attribute (before opset 13) or the host integers, if any.
    Squeeze {
        axes: Option<Vec<i64>>,
        from_input: bool,
    },
    Unsqueeze {
        axes: Option<Vec<i64>>,
    },
    /// [.., X] → [.., heads, X / heads] (attention lowering).
    SplitLast {
        heads: i64,
    },
    /// [.., a, b] → [.., a·b].
    MergeLast,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let new = node.opset >= 13;
    let (view, ints) = if is(node, "Reshape") {
        let allowzero = node.attr_int("allowzero", 0)? != 0;
        if node.opset < 5 {
            let shape = node
                .attr_ints("shape")?
                .ok_or("Reshape-1 without a shape")?;
            (
                View::Reshape {
                    allowzero,
                    shape: Some(shape),
                },
                vec![],
            )
        } else {
            (
                View::Reshape {
                    allowzero,
                    shape: None,
                },
                vec![1],
            )
        }
    } else if is(node, "Flatten") {
        (
            View::Flatten {
                axis: node.attr_int("axis", 1)?,
            },
            vec![],
        )
    } else if is(node, "Squeeze") {
        let from_input = new && node.has_input(1);
        let axes = if new { None } else { node.attr_ints("axes")? };
        (
            View::Squeeze { axes, from_input },
            if from_input { vec![1] } else { vec![] },
        )
    } else if is(node, "Unsqueeze") {
        if new {
            (View::Unsqueeze { axes: None }, vec![1])
        } else {
            let axes = node.attr_ints("axes")?.ok_or("Unsqueeze without axes")?;
            (View::Unsqueeze { axes: Some(axes) }, vec![])
        }
    } else {
        return Ok(None);
    };
    Ok(Some(Claim::one(Lowered::inputs(view, 1).with_ints(ints))))
}

fn bad(what: String) -> Error {
    Error::invalid(what)
}

impl Kernel for View {
    fn exact(&self) -> bool {
        true
    }

    fn is_view(&self) -> bool {
        true
    }

    fn record(&self, _: &Gpu, _: &mut Builder, _: Io<'_>) -> Result<(), Error> {
        Ok(())
    }

    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        let n = numel(x) as i64;
        let r = x.len() as i64;
        let host = |k: usize| ints.get(k).map(|i| i.data.clone());
        match self {
            View::Reshape { allowzero, shape } => {
                let t = shape
                    .clone()
                    .or_else(|| host(0))
                    .ok_or_else(|| bad("Reshape without a target".into()))?;
                let mut out: Vec<i64> = t
                    .iter()
                    .enumerate()
                    .map(|(k, &d)| {
                        if d == 0 && !allowzero {
                            x.get(k).copied().unwrap_or(0)
                        } else {
                            d
                        }
                    })
                    .collect();
                let known: i64 = out.iter().filter(|&&d| d != -1).product();
                match out.iter().filter(|&&d| d == -1).count() {
                    0 => {}
                    1 if known != 0 => {
                        let pos = out.iter().position(|&d| d == -1).expect("one -1");
                        out[pos] = n / known;
                    }
                    _ => return Err(bad(format!("Reshape of {x:?} to {t:?} is ambiguous"))),
                }
                if out.iter().product::<i64>() != n || out.iter().any(|&d| d < 0) {
                    return Err(bad(format!(
                        "Reshape of {x:?} to {t:?}: element counts differ"
                    )));
                }
                Ok(out)
            }
            View::Flatten { axis } => {
                let a = if *axis < 0 { axis + r } else { *axis };
                if !(0..=r).contains(&a) {
                    return Err(bad(format!("Flatten axis {axis} out of range for {x:?}")));
                }
                let lead: i64 = x[..a as usize].iter().product();
                Ok(vec![lead, x[a as usize..].iter().product()])
            }
            View::Squeeze { axes, from_input } => {
                let axes = if *from_input { host(0) } else { axes.clone() };
                let drop: Vec<i64> = match &axes {
                    Some(a) => a.iter().map(|&k| if k < 0 { k + r } else { k }).collect(),
                    None => (0..r).filter(|&k| x[k as usize] == 1).collect(),
                };
                if drop
                    .iter()
                    .any(|&k| !(0..r).contains(&k) || x[k as usize] != 1)
                {
                    return Err(bad(format!(
                        "Squeeze of {x:?} at {axes:?}: not size-1 axes"
                    )));
                }
                Ok((0..r)
                    .filter(|k| !drop.contains(k))
                    .map(|k| x[k as usize])
                    .collect())
            }
            View::Unsqueeze { axes } => {
                let axes = axes
                    .clone()
                    .or_else(|| host(0))
                    .ok_or_else(|| bad("Unsqueeze without axes".into()))?;
                let out_r = r + axes.len() as i64;
                let mut add: Vec<i64> = axes
                    .iter()
                    .map(|&k| if k < 0 { k + out_r } else { k })
                    .collect();
                add.sort_unstable();
                if add.windows(2).any(|w| w[0] == w[1])
                    || add.iter().any(|&k| !(0..out_r).contains(&k))
                {
                    return Err(bad(format!("Unsqueeze of {x:?} at {axes:?}: bad axes")));
                }
                let mut rest = x.iter();
                Ok((0..out_r)
                    .map(|k| {
                        if add.contains(&k) {
                            1
                        } else {
                            *rest.next().expect("rank adds up")
                        }
                    })
                    .collect())
            }
            View::SplitLast { heads } => {
                let last = *x
                    .last()
                    .ok_or_else(|| bad("a scalar has no last axis".into()))?;
                if *heads <= 0 || last % heads != 0 {
                    return Err(bad(format!("{last} does not split into {heads} heads")));
                }
                let mut out = x[..x.len() - 1].to_vec();
                out.extend([*heads, last / heads]);
                Ok(out)
            }
            View::MergeLast => {
                if x.len() < 2 {
                    return Err(bad(format!("{x:?} has no two last axes to merge")));
                }
                let mut out = x[..x.len() - 2].to_vec();
                out.push(x[x.len() - 2] * x[x.len() - 1]);
                Ok(out)
            }
        }
    }
}
