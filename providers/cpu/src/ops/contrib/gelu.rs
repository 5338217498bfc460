//! The GELU family of `com.microsoft`: Gelu (erf), FastGelu (the tanh
//! approximation, after an optional bias), BiasGelu (erf, after a bias) and
//! QuickGelu (`x · sigmoid(alpha · x)`), elementwise in parallel chunks; the bias
//! repeats along the last axis.

use ort_core::{Error, Tensor, Value};

use crate::kernel::{input, one, opt_input, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::nn::gelu::{erf, tanh_of};
use crate::ops::nn::{data, output, Flt, PAR_WORK};
use crate::ops::FLOATS;

#[derive(Clone, Copy)]
enum Form {
    Erf,
    Tanh,
    Quick(f64),
}

struct Gelu {
    form: Form,
    /// Input 1 is a bias.
    bias: bool,
}

impl Kernel for Gelu {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let bias = if self.bias {
            opt_input(inputs, 1)?
        } else {
            None
        };
        one(crate::with_float!(x.elem(), F => {
            let xd = data::<F>(x)?;
            let bd = bias.map(|b| bias_of::<F>(x, b)).transpose()?;
            let form = self.form;
            output::<F>(ctx, x.elem(), x.shape(), |o| {
                let (c, threads) = (PAR_WORK / 4, if o.len() >= PAR_WORK { ctx.threads } else { 1 });
                crate::parallel::for_each_chunk(threads, o, c, |i, o| {
                    let start = i * c;
                    for (k, o) in o.iter_mut().enumerate() {
                        let mut v = xd[start + k];
                        if let Some(b) = &bd {
                            v += b[(start + k) % b.len()];
                        }
                        *o = gelu(v, form);
                    }
                });
            })
        })?)
    }
}

/// The bias as `F`, checked to be one value per element of X's last axis.
fn bias_of<F: Flt>(x: &Tensor, b: &Tensor) -> Result<Vec<F>, Error> {
    let last = x.shape().last().copied().unwrap_or(1);
    if b.elem() != x.elem() || b.len() as i64 != last || last == 0 {
        return Err(Error::invalid(format!(
            "the bias must hold one {} per element of the input's last axis ({last}), got {:?}",
            x.elem(),
            b.shape()
        )));
    }
    Ok(data::<F>(b)?.into_owned())
}

#[inline]
fn gelu<F: Flt>(x: F, form: Form) -> F {
    let half = F::of(0.5);
    match form {
        Form::Erf => half * x * (F::one() + erf(x * F::of(std::f64::consts::FRAC_1_SQRT_2))),
        Form::Tanh => {
            let k = F::of((2.0 / std::f64::consts::PI).sqrt());
            half * x * (F::one() + tanh_of(k * (x + F::of(0.044715) * x * x * x)))
        }
        Form::Quick(alpha) => x / (F::one() + (-(F::of(alpha) * x)).exp()),
    }
}

fn build(form: Form, bias: bool) -> Result<Box<dyn Kernel>, Error> {
    Ok(Box::new(Gelu { form, bias }))
}

fn quick(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    build(Form::Quick(info.float("alpha", 1.702)? as f64), false)
}

crate::register!("Gelu", "com.microsoft", [1, 1], FLOATS, 0, |_| build(
    Form::Erf,
    false
));
crate::register!("FastGelu", "com.microsoft", [1, 1], FLOATS, 0, |_| build(
    Form::Tanh,
    true
));
crate::register!("BiasGelu", "com.microsoft", [1, 1], FLOATS, 0, |_| build(
    Form::Erf,
    true
));
crate::register!("QuickGelu", "com.microsoft", [1, 1], FLOATS, 0, quick);
