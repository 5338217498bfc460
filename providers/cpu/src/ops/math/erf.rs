//! Erf by fdlibm's s_erf.c rational approximations in f64 (f32 inputs widened), with a
//! split-exponent erfc tail for f64 accuracy and a single exp for f32.

// The coefficients below are kept exactly as published.
#![allow(clippy::excessive_precision)]

use crate::ops::{FLOATS, LATEST};

// f32 (and f16/bf16) results tolerate the one-exp tail; f64 keeps fdlibm's split.
crate::register!("Erf", [9, LATEST], FLOATS, |_| Ok(Box::new(
    super::float_maps::FloatMap {
        p: [0.0; 2],
        f32: |x: f32, _| erf(x as f64, false) as f32,
        f64: |x: f64, _| erf(x, true),
    }
)));

/// Polynomial with coefficients from the constant term upward, by Horner's rule.
fn poly(c: &[f64], s: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &k| acc * s + k)
}

// Rational approximations of fdlibm's s_erf.c (Sun Microsystems, freely
// distributable), accurate to about 1 ulp in f64; f32 inputs go through f64.
const ERX: f64 = 8.45062911510467529297e-01;
const PP: [f64; 5] = [
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
];
const QQ: [f64; 6] = [
    1.0,
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
];
const PA: [f64; 7] = [
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
];
const QA: [f64; 7] = [
    1.0,
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
];
const RA: [f64; 8] = [
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e+01,
    -6.23753324503260060396e+01,
    -1.62396669462573470355e+02,
    -1.84605092906711035994e+02,
    -8.12874355063065934246e+01,
    -9.81432934416914548592e+00,
];
const SA: [f64; 9] = [
    1.0,
    1.96512716674392571292e+01,
    1.37657754143519042600e+02,
    4.34565877475229228821e+02,
    6.45387271733267880336e+02,
    4.29008140027567833386e+02,
    1.08635005541779435134e+02,
    6.57024977031928170135e+00,
    -6.04244152148580987438e-02,
];
const RB: [f64; 7] = [
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e+01,
    -1.60636384855821916062e+02,
    -6.37566443368389627722e+02,
    -1.02509513161107724954e+03,
    -4.83519191608651397019e+02,
];
const SB: [f64; 8] = [
    1.0,
    3.03380607434824582924e+01,
    3.25792512996573918826e+02,
    1.53672958608443695994e+03,
    3.19985821950859553908e+03,
    2.55305040643316442583e+03,
    4.74528541206955367215e+02,
    -2.24409524465858183362e+01,
];

/// erf(x); `exact` keeps f64 accuracy in the tail at the cost of a second exp.
pub(crate) fn erf(x: f64, exact: bool) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    if a < 0.84375 {
        let z = x * x;
        return x + x * (poly(&PP, z) / poly(&QQ, z));
    }
    if a < 1.25 {
        let s = a - 1.0;
        return (ERX + poly(&PA, s) / poly(&QA, s)).copysign(x);
    }
    if a >= 6.0 {
        return 1.0f64.copysign(x);
    }
    let s = 1.0 / (a * a);
    let (r, q) = if a < 1.0 / 0.35 {
        (poly(&RA, s), poly(&SA, s))
    } else {
        (poly(&RB, s), poly(&SB, s))
    };
    let erfc = if exact {
        // z is `a` with its low 32 bits cleared, so z*z is exact and the split keeps accuracy.
        let z = f64::from_bits(a.to_bits() & 0xffff_ffff_0000_0000);
        (-z * z - 0.5625).exp() * ((z - a) * (z + a) + r / q).exp() / a
    } else {
        (-a * a - 0.5625 + r / q).exp() / a
    };
    (1.0 - erfc).copysign(x)
}
