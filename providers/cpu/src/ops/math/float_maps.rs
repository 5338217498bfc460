//! The elementwise float functions (trigonometry, rounding, activations), one
//! table row each: every row is a [`FloatMap`] whose body is written once and
//! compiled for f32 and f64 (f16 and bf16 go through f32).

use half::{bf16, f16};
use ort_core::{ElemType, Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::unary;

/// An elementwise float function with up to two attribute parameters, written once
/// (see [`float_map!`]) and compiled for f32 and f64; f16/bf16 go through f32.
/// Generic over the closures rather than holding fn pointers so they inline.
pub(crate) struct FloatMap<A, B> {
    pub p: [f64; 2],
    pub f32: A,
    pub f64: B,
}

impl<A, B> Kernel for FloatMap<A, B>
where
    A: Fn(f32, [f32; 2]) -> f32 + Copy + Send + Sync,
    B: Fn(f64, [f64; 2]) -> f64 + Copy + Send + Sync,
{
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let (p32, p64) = ([self.p[0] as f32, self.p[1] as f32], self.p);
        let (f, g) = (self.f32, self.f64);
        one(match x.elem() {
            ElemType::F32 => unary(ctx, x, move |v: f32| f(v, p32)),
            ElemType::F64 => unary(ctx, x, move |v: f64| g(v, p64)),
            ElemType::F16 => unary(ctx, x, move |v: f16| f16::from_f32(f(v.to_f32(), p32))),
            ElemType::BF16 => unary(ctx, x, move |v: bf16| bf16::from_f32(f(v.to_f32(), p32))),
            e => Err(Error::not_implemented(format!(
                "element type {e} is not supported here"
            ))),
        }?)
    }
}

/// `float_map!([p0, p1], |x, p| body)` builds a boxed [`FloatMap`] kernel; `body` is
/// compiled once with `x: f32, p: [f32; 2]` and once with f64.
macro_rules! float_map {
    ($p:expr, |$x:ident, $q:pat_param| $body:expr) => {
        Ok(Box::new($crate::ops::math::float_maps::FloatMap {
            p: $p,
            f32: |$x: f32, $q: [f32; 2]| -> f32 { $body },
            f64: |$x: f64, $q: [f64; 2]| -> f64 { $body },
        }))
    };
}

crate::register!("Acos", [7, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.acos()
));

crate::register!("Acosh", [9, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.acosh()
));

crate::register!("Asin", [7, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.asin()
));

crate::register!("Asinh", [9, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.asinh()
));

crate::register!("Atan", [7, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.atan()
));

crate::register!("Atanh", [9, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.atanh()
));

crate::register!("Ceil", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.ceil()
));

crate::register!("Cos", [7, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.cos()
));

crate::register!("Cosh", [9, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.cosh()
));

crate::register!("Elu", [6, LATEST], FLOATS, |n| {
    let p = [n.float("alpha", 1.0)? as f64, 0.0];
    float_map!(p, |x, p| if x < 0.0 { p[0] * x.exp_m1() } else { x })
});

crate::register!("Exp", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.exp()
));

crate::register!("Floor", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.floor()
));

crate::register!("HardSigmoid", [6, LATEST], FLOATS, |n| {
    let p = [n.float("alpha", 0.2)? as f64, n.float("beta", 0.5)? as f64];
    float_map!(p, |x, p| (p[0] * x + p[1]).clamp(0.0, 1.0))
});

crate::register!("HardSwish", [14, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x * (x / 6.0 + 0.5).clamp(0.0, 1.0)
));

crate::register!("LeakyRelu", [6, LATEST], FLOATS, |n| {
    let p = [n.float("alpha", 0.01)? as f64, 0.0];
    float_map!(p, |x, p| if x < 0.0 { p[0] * x } else { x })
});

crate::register!("Log", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.ln()
));

crate::register!("Reciprocal", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| 1.0 / x
));

crate::register!("Round", [11, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.round_ties_even()
));

crate::register!("Sin", [7, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.sin()
));

crate::register!("Sinh", [9, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.sinh()
));

crate::register!("Softsign", [1, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x / (1.0 + x.abs())
));

crate::register!("Sqrt", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.sqrt()
));

crate::register!("Tan", [7, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.tan()
));

crate::register!("Tanh", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.tanh()
));

crate::register!("ThresholdedRelu", [10, LATEST], FLOATS, |n| {
    let alpha = n.float("alpha", 1.0)? as f64;
    float_map!([alpha, 0.0], |x, p| if x > p[0] { x } else { 0.0 })
});

// x * tanh(softplus(x)), with softplus written so it cannot overflow.
crate::register!("Mish", [18, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x * (x.max(0.0) + (-x.abs()).exp().ln_1p()).tanh()
));

// ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), which neither overflows nor loses small x.
crate::register!("Softplus", [1, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| x.max(0.0) + (-x.abs()).exp().ln_1p()
));

// `x * sigmoid(alpha * x)`.
crate::register!("Swish", [24, LATEST], FLOATS, |n| {
    let alpha = n.float("alpha", 1.0)? as f64;
    float_map!([alpha, 0.0], |x, p| x / (1.0 + (-p[0] * x).exp()))
});

crate::register!("Celu", [12, LATEST], FLOATS, |n| {
    let alpha = n.float("alpha", 1.0)? as f64;
    if alpha == 0.0 {
        return Err(ort_core::Error::invalid("Celu alpha must be nonzero"));
    }
    float_map!([alpha, 0.0], |x, p| x.max(0.0)
        + (p[0] * (x / p[0]).exp_m1()).min(0.0))
});

// Written so exp never overflows: for x < 0 use e^x / (1 + e^x).
crate::register!("Sigmoid", [6, LATEST], FLOATS, |_| float_map!(
    [0.0, 0.0],
    |x, _| if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
));

crate::register!("Selu", [6, LATEST], FLOATS, |n| {
    let p = [
        n.float("alpha", 1.673_263_2)? as f64,
        n.float("gamma", 1.050_701)? as f64,
    ];
    float_map!(p, |x, p| if x > 0.0 {
        p[1] * x
    } else {
        p[1] * p[0] * x.exp_m1()
    })
});
