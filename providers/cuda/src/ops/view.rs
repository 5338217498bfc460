//! Reshape, Flatten, Squeeze, Unsqueeze, Identity and inference Dropout: the
//! output is the input's memory under a new shape, so nothing is launched.

use ort_core::kit::Attributes;
use ort_core::kit::{axis, numel};
use ort_core::{Error, GraphView, NodeView};

use super::{invalid, Claim, Cx, Ints, Io, Kernel, Lower, Lowered};

#[derive(Clone, Debug)]
pub enum View {
    /// The target shape is host integers; `allowzero` keeps literal zeros.
    Reshape {
        allowzero: bool,
    },
    Flatten(i64),
    /// Axes from the attribute, or (None) from host integers.
    Squeeze(Option<Vec<i64>>),
    Unsqueeze(Option<Vec<i64>>),
    Same,
}

pub fn claim(node: &NodeView<'_>, _: &GraphView<'_>) -> Result<Option<Claim>, String> {
    let with_ints = |v: View, k: usize| {
        let l = Lowered::inputs(v, 1);
        if node.has_input(k) {
            l.with_ints(vec![k])
        } else {
            l
        }
    };
    let axes_attr = || -> Result<Option<Vec<i64>>, String> {
        Ok(if node.opset < 13 {
            node.attr_ints("axes")?
        } else {
            None
        })
    };
    let step = match node.op_type.as_str() {
        _ if !matches!(node.domain.as_str(), "" | "ai.onnx") => return Ok(None),
        "Reshape" if node.opset >= 5 => with_ints(
            View::Reshape {
                allowzero: node.attr_int("allowzero", 0)? != 0,
            },
            1,
        ),
        "Flatten" => Lowered::inputs(View::Flatten(node.attr_int("axis", 1)?), 1),
        "Squeeze" => with_ints(View::Squeeze(axes_attr()?), 1),
        "Unsqueeze" => {
            let axes = axes_attr()?;
            if axes.is_none() && !node.has_input(1) {
                return Err("Unsqueeze needs axes".into());
            }
            with_ints(View::Unsqueeze(axes), 1)
        }
        "Identity" => Lowered::inputs(View::Same, 1),
        "Dropout" => {
            if node.outputs.get(1).is_some_and(|m| !m.is_empty()) {
                return Err("Dropout's mask output is left to the CPU".into());
            }
            if node.has_input(2) || node.attr_int("is_test", 1)? == 0 {
                return Err("Dropout in training mode is left to the CPU".into());
            }
            Lowered::inputs(View::Same, 1)
        }
        _ => return Ok(None),
    };
    Ok(Some(Claim::one(step)))
}

impl Kernel for View {
    fn shape(&self, inputs: &[&[i64]], ints: &[Ints]) -> Result<Vec<i64>, Error> {
        let x = inputs[0];
        let axes = |attr: &Option<Vec<i64>>| {
            attr.clone()
                .or_else(|| ints.first().map(|i| i.data.clone()))
        };
        match self {
            View::Same => Ok(x.to_vec()),
            View::Reshape { allowzero } => {
                let want = &ints[0].data;
                let mut out: Vec<i64> = want
                    .iter()
                    .enumerate()
                    .map(|(k, &d)| match d {
                        0 if !allowzero => x
                            .get(k)
                            .copied()
                            .ok_or_else(|| invalid("Reshape copies a dim the input lacks")),
                        _ => Ok(d),
                    })
                    .collect::<Result<_, _>>()?;
                let known: i64 = out.iter().filter(|&&d| d != -1).product();
                let free = out.iter().filter(|&&d| d == -1).count();
                let total = numel(x) as i64;
                match free {
                    0 if known == total => {}
                    1 if known > 0 && total % known == 0 => {
                        *out.iter_mut().find(|d| **d == -1).unwrap() = total / known;
                    }
                    1 if known == 0 && total == 0 => {
                        *out.iter_mut().find(|d| **d == -1).unwrap() = 0;
                    }
                    _ => return Err(invalid(format!("Reshape of {x:?} to {want:?}"))),
                }
                Ok(out)
            }
            View::Flatten(a) => {
                let r = x.len() as i64;
                let k = if *a < 0 { a + r } else { *a };
                if !(0..=r).contains(&k) {
                    return Err(invalid(format!("Flatten axis {a} for rank {r}")));
                }
                let k = k as usize;
                Ok(vec![x[..k].iter().product(), x[k..].iter().product()])
            }
            View::Squeeze(attr) => {
                let drop: Vec<usize> = match axes(attr) {
                    Some(a) => a
                        .iter()
                        .map(|&v| axis(v, x.len()))
                        .collect::<Result<_, _>>()?,
                    None => (0..x.len()).filter(|&k| x[k] == 1).collect(),
                };
                if let Some(&k) = drop.iter().find(|&&k| x[k] != 1) {
                    return Err(invalid(format!(
                        "Squeeze of axis {k} of {x:?}, which is not 1"
                    )));
                }
                Ok((0..x.len())
                    .filter(|k| !drop.contains(k))
                    .map(|k| x[k])
                    .collect())
            }
            View::Unsqueeze(attr) => {
                let a = axes(attr).ok_or_else(|| invalid("Unsqueeze needs axes"))?;
                let r = x.len() + a.len();
                let mut put: Vec<usize> =
                    a.iter().map(|&v| axis(v, r)).collect::<Result<_, _>>()?;
                put.sort_unstable();
                if put.windows(2).any(|w| w[0] == w[1]) {
                    return Err(invalid(format!("Unsqueeze axes {a:?} repeat")));
                }
                let mut rest = x.iter();
                Ok((0..r)
                    .map(|k| {
                        if put.contains(&k) {
                            1
                        } else {
                            *rest.next().unwrap()
                        }
                    })
                    .collect())
            }
        }
    }
    fn launch(&self, _: &Cx<'_>, _: Io<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn is_view(&self) -> bool {
        true
    }
}
