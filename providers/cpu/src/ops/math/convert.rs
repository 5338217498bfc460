//! Element type conversions: Cast's rules, and the 8-, 4- and 2-bit formats.
//!
//! The float8, float4 and float8e8m0 formats have no Rust element type: their tensors
//! hold one raw code per byte, which [`MiniFloat`] and [`e8m0_encode`] translate. The
//! 4- and 2-bit integer types hold one (sign-extended) value per byte.

use num_traits::AsPrimitive;
use ort_core::abi::RString;
use ort_core::{ElemType, Error, Tensor};

use crate::kernel::Ctx;
use crate::util::{unary, Num};

/// How a small float format treats its special codes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Special {
    /// No infinities; NaN is the all-ones exponent and mantissa (float8e4m3fn).
    Fn,
    /// IEEE-like: the all-ones exponent holds infinities and NaNs (float8e5m2).
    Ieee,
    /// No infinities and no negative zero: 0x80 is the only NaN (the `fnuz` types).
    Fnuz,
    /// No infinities or NaNs at all (float4e2m1).
    Finite,
}

/// A float format of at most 8 bits with a sign, `exp` exponent and `mant` mantissa bits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MiniFloat {
    exp: u32,
    mant: u32,
    bias: i32,
    special: Special,
}

impl MiniFloat {
    /// The format of a float8 or float4 element type (not float8e8m0, see [`e8m0_encode`]).
    pub(crate) fn of(e: ElemType) -> Option<MiniFloat> {
        use ElemType::*;
        let (exp, mant, bias, special) = match e {
            F8E4M3FN => (4, 3, 7, Special::Fn),
            F8E4M3FNUZ => (4, 3, 8, Special::Fnuz),
            F8E5M2 => (5, 2, 15, Special::Ieee),
            F8E5M2FNUZ => (5, 2, 16, Special::Fnuz),
            F4E2M1 => (2, 1, 1, Special::Finite),
            _ => return None,
        };
        Some(MiniFloat {
            exp,
            mant,
            bias,
            special,
        })
    }

    fn emask(self) -> u32 {
        (1 << self.exp) - 1
    }

    fn mmask(self) -> u32 {
        (1 << self.mant) - 1
    }

    fn sign_bit(self) -> u32 {
        1 << (self.exp + self.mant)
    }

    /// The code of the largest finite value (positive).
    fn max_code(self) -> u32 {
        let (e, m) = (self.emask(), self.mmask());
        match self.special {
            Special::Fn => (e << self.mant) | (m - 1),
            Special::Ieee => ((e - 1) << self.mant) | m,
            Special::Fnuz | Special::Finite => (e << self.mant) | m,
        }
    }

    /// The code for NaN; float4 has none and follows ml_dtypes (a zero of flipped sign).
    fn nan(self, neg: bool) -> u32 {
        let s = if neg { self.sign_bit() } else { 0 };
        match self.special {
            Special::Fn => 0x7F | s,
            Special::Ieee => 0x7E | s,
            Special::Fnuz => 0x80,
            Special::Finite => self.sign_bit() ^ s,
        }
    }

    /// The value a code stands for (exact in f32).
    pub(crate) fn decode(self, code: u8) -> f32 {
        let b = code as u32 & ((self.sign_bit() << 1) - 1);
        let neg = b & self.sign_bit() != 0;
        let (ef, mf) = ((b >> self.mant) & self.emask(), b & self.mmask());
        let nan = match self.special {
            Special::Fnuz => b == 0x80,
            Special::Fn => ef == self.emask() && mf == self.mmask(),
            Special::Ieee if ef == self.emask() => {
                if mf == 0 {
                    return if neg {
                        f32::NEG_INFINITY
                    } else {
                        f32::INFINITY
                    };
                }
                true
            }
            _ => false,
        };
        if nan {
            return if neg { -f32::NAN } else { f32::NAN };
        }
        let m = self.mant as i32;
        let v = if ef == 0 {
            mf as f32 * 2f32.powi(1 - self.bias - m)
        } else {
            (mf + (1 << self.mant)) as f32 * 2f32.powi(ef as i32 - self.bias - m)
        };
        if neg {
            -v
        } else {
            v
        }
    }

    /// The code nearest `x` (ties to even). Out-of-range values and infinities become
    /// the largest finite value when `saturate`, else infinity or NaN as the format
    /// allows (float4 always saturates).
    pub(crate) fn encode(self, x: f64, saturate: bool) -> u8 {
        let neg = x.is_sign_negative();
        let s = if neg { self.sign_bit() } else { 0 };
        if x.is_nan() {
            return self.nan(neg) as u8;
        }
        let overflow = || -> u8 {
            (match self.special {
                _ if saturate => self.max_code() | s,
                Special::Finite => self.max_code() | s,
                Special::Fn => 0x7F | s,
                Special::Ieee => (self.emask() << self.mant) | s,
                Special::Fnuz => 0x80,
            }) as u8
        };
        if x.is_infinite() {
            return overflow();
        }
        let zero = if self.special == Special::Fnuz {
            0
        } else {
            s as u8
        };
        let a = x.abs();
        if a == 0.0 {
            return zero;
        }
        let m = self.mant as i32;
        let emin = 1 - self.bias;
        let exponent = |v: f64| ((v.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        let e = exponent(a).max(emin);
        let q = 2f64.powi(e - m);
        let r = (a / q).round_ties_even() * q;
        if r == 0.0 {
            return zero;
        }
        let er = exponent(r);
        let code = if er < emin {
            (r / 2f64.powi(emin - m)) as u32
        } else {
            let ef = er + self.bias;
            if ef > self.emask() as i32 {
                return overflow();
            }
            ((ef as u32) << self.mant) | ((r / 2f64.powi(er - m)) as u32 - (1 << self.mant))
        };
        if code > self.max_code() {
            return overflow();
        }
        (code | s) as u8
    }
}

/// Rounding of values that fall between two powers of two, for float8e8m0.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) enum E8M0Round {
    #[default]
    Up,
    Down,
    Nearest,
}

impl E8M0Round {
    pub(crate) fn parse(s: &str) -> Result<E8M0Round, Error> {
        match s {
            "up" => Ok(E8M0Round::Up),
            "down" => Ok(E8M0Round::Down),
            "nearest" => Ok(E8M0Round::Nearest),
            _ => Err(Error::invalid(format!(
                "round_mode must be up, down or nearest, got {s:?}"
            ))),
        }
    }
}

/// The float8e8m0 code of `x` (a power of two, 2^(code - 127); 0xFF is NaN), as
/// ONNX's reference computes it from x's float32 exponent; the sign is ignored.
pub(crate) fn e8m0_encode(x: f32, saturate: bool, round: E8M0Round) -> u8 {
    let b = x.to_bits();
    let e = (b >> 23) & 0xFF;
    if e == 0xFF {
        return 0xFF;
    }
    let up = match round {
        E8M0Round::Up => b & 0x7F_FFFF != 0,
        E8M0Round::Down => false,
        E8M0Round::Nearest => {
            let (g, r, s) = (b & 0x40_0000 != 0, b & 0x20_0000 != 0, b & 0x1F_FFFF != 0);
            g && (r || s || e > 0)
        }
    };
    if up && !(saturate && e == 0xFE) {
        (e + 1) as u8
    } else {
        e as u8
    }
}

/// The value of a float8e8m0 code.
pub(crate) fn e8m0_decode(code: u8) -> f32 {
    match code {
        0xFF => f32::NAN,
        0 => f32::from_bits(0x40_0000),
        c => f32::from_bits((c as u32) << 23),
    }
}

/// True for the element types stored as raw float codes (float8, float4, float8e8m0).
pub(crate) fn is_small_float(e: ElemType) -> bool {
    e == ElemType::F8E8M0 || MiniFloat::of(e).is_some()
}

/// A one-byte-per-element tensor's bytes.
fn codes(x: &Tensor) -> Result<&[u8], Error> {
    x.bytes()
        .ok_or_else(|| Error::invalid("tensor lives in device memory; copy it to the host first"))
}

/// The values of a float8/float4/float8e8m0 tensor, as f32 (exact).
pub(crate) fn small_floats(x: &Tensor) -> Result<Vec<f32>, Error> {
    let b = codes(x)?;
    Ok(match MiniFloat::of(x.elem()) {
        Some(f) => b.iter().map(|&c| f.decode(c)).collect(),
        None if x.elem() == ElemType::F8E8M0 => b.iter().map(|&c| e8m0_decode(c)).collect(),
        None => {
            return Err(Error::invalid(format!(
                "{} is not a small float type",
                x.elem()
            )))
        }
    })
}

/// A tensor of element type `elem` (one byte per element) filled from `codes`.
pub(crate) fn from_codes(
    ctx: &Ctx<'_>,
    elem: ElemType,
    shape: &[i64],
    codes: impl Fn(usize) -> u8,
) -> Result<Tensor, Error> {
    let t = ctx.tensor(shape, |o: &mut [u8]| {
        o.iter_mut().enumerate().for_each(|(i, o)| *o = codes(i))
    })?;
    Tensor::from_buffer(elem, shape, t.buffer().clone(), t.offset())
}

/// Options of Cast that apply to the float8 targets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CastOpts {
    pub saturate: bool,
    pub round: E8M0Round,
}

impl Default for CastOpts {
    fn default() -> CastOpts {
        CastOpts {
            saturate: true,
            round: E8M0Round::Up,
        }
    }
}

/// The integer kin a 4- or 2-bit integer type's values are held as, and its width.
fn sub_byte(e: ElemType) -> Option<(ElemType, u32)> {
    use ElemType::*;
    match e {
        I4 => Some((I8, 4)),
        U4 => Some((U8, 4)),
        I2 => Some((I8, 2)),
        U2 => Some((U8, 2)),
        _ => None,
    }
}

/// The same bytes under another element type of the same size.
fn retag(t: &Tensor, elem: ElemType) -> Result<Tensor, Error> {
    Tensor::from_buffer(elem, t.shape(), t.buffer().clone(), t.offset())
}

/// Casts `x` to `to` with ONNX Runtime's conventions: floats to integers truncate
/// toward zero through a 64-bit integer (so out-of-range values wrap), numbers
/// print as C's `%.8g`, and strings parse as numbers. Small floats go through f32
/// (exact) on the way in and out (as ONNX's reference does); 4- and
/// 2-bit integers keep the low bits of the 64-bit integer.
pub(crate) fn cast_with(
    ctx: &Ctx<'_>,
    x: &Tensor,
    to: ElemType,
    opts: CastOpts,
) -> Result<Tensor, Error> {
    let from = x.elem();
    if from == to {
        return Ok(x.clone());
    }
    if is_small_float(from) {
        let wide = ctx.tensor_from(x.shape(), &small_floats(x)?)?;
        return cast_with(ctx, &wide, to, opts);
    }
    if let Some((kin, _)) = sub_byte(from) {
        return cast_with(ctx, &retag(x, kin)?, to, opts);
    }
    if to == ElemType::F8E8M0 {
        let f = cast_with(ctx, x, ElemType::F32, opts)?;
        let v = f.as_slice::<f32>()?;
        return from_codes(ctx, to, x.shape(), |i| {
            e8m0_encode(v[i], opts.saturate, opts.round)
        });
    }
    if let Some(fmt) = MiniFloat::of(to) {
        // Through f32, as ONNX's reference (ml_dtypes) does, even from f64.
        let f = cast_with(ctx, x, ElemType::F32, opts)?;
        let v = f.as_slice::<f32>()?;
        return from_codes(ctx, to, x.shape(), |i| {
            fmt.encode(v[i] as f64, opts.saturate)
        });
    }
    if let Some((_, bits)) = sub_byte(to) {
        let w = cast_with(ctx, x, ElemType::I64, opts)?;
        let v = w.as_slice::<i64>()?;
        let signed = matches!(to, ElemType::I4 | ElemType::I2);
        return from_codes(ctx, to, x.shape(), |i| wrap_bits(v[i], bits, signed));
    }
    if !castable(from) || !castable(to) {
        return Err(Error::not_implemented(format!(
            "Cast from {from} to {to} is not supported"
        )));
    }
    match (from, to) {
        (ElemType::String, _) => from_strings(ctx, x, to),
        (_, ElemType::String) => to_strings(x),
        (ElemType::Bool, _) => {
            crate::dispatch_numeric!(to, D => unary(ctx, x, |v: bool| D::from_f64(v as u8 as f64)))
        }
        (_, ElemType::Bool) => {
            crate::dispatch_numeric!(from, S => unary(ctx, x, |v: S| v != S::ZERO))
        }
        _ => {
            crate::dispatch_numeric!(from, S => crate::dispatch_numeric!(to, D => unary(ctx, x, convert::<S, D>)))
        }
    }
}

/// The low `bits` bits of `v`, sign-extended when `signed`, as the byte holding them.
pub(crate) fn wrap_bits(v: i64, bits: u32, signed: bool) -> u8 {
    let low = v & ((1 << bits) - 1);
    if signed && low & (1 << (bits - 1)) != 0 {
        (low - (1 << bits)) as i8 as u8
    } else {
        low as u8
    }
}

/// Element types with a Rust type that Cast converts between directly.
fn castable(e: ElemType) -> bool {
    use ElemType::*;
    matches!(
        e,
        F32 | F64 | F16 | BF16 | I8 | I16 | I32 | I64 | U8 | U16 | U32 | U64 | Bool | String
    )
}

#[inline]
fn convert<S: Num + AsPrimitive<D>, D: Num>(v: S) -> D
where
    i64: AsPrimitive<D>,
    u64: AsPrimitive<D>,
{
    if S::TYPE.is_float() && !D::TYPE.is_float() {
        let f = v.to_f64();
        if D::TYPE == ElemType::U64 && f >= (1u64 << 63) as f64 {
            (f as u64).as_()
        } else {
            (f as i64).as_()
        }
    } else {
        v.as_()
    }
}

fn to_strings(x: &Tensor) -> Result<Tensor, Error> {
    let out: Vec<RString> = match x.elem() {
        ElemType::Bool => x
            .as_slice::<bool>()?
            .iter()
            .map(|&b| RString::from(if b { "1" } else { "0" }))
            .collect(),
        e if e.is_float() => crate::dispatch_float!(e, T => Ok::<_, Error>(
            x.as_slice::<T>()?.iter().map(|&v| RString::from(fmt_g(v.to_f64(), 8))).collect()
        ))?,
        e => crate::dispatch_int!(e, T => Ok::<_, Error>(
            x.as_slice::<T>()?.iter().map(|v| RString::from(v.to_string())).collect()
        ))?,
    };
    Tensor::from_vec(x.shape(), out)
}

fn from_strings(ctx: &Ctx<'_>, x: &Tensor, to: ElemType) -> Result<Tensor, Error> {
    match to {
        ElemType::Bool => parse_all(ctx, x, to, |s| match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => s.parse::<i64>().ok().map(|v| v != 0),
        }),
        ElemType::F32 => parse_all(ctx, x, to, |s| s.parse::<f32>().ok()),
        ElemType::U64 => parse_all(ctx, x, to, |s| s.parse::<u64>().ok()),
        e if e.is_float() => {
            crate::dispatch_float!(e, D => parse_all(ctx, x, to, |s| s.parse::<f64>().ok().map(D::from_f64)))
        }
        e => {
            crate::dispatch_int!(e, D => parse_all(ctx, x, to, |s| s.parse::<i64>().ok().map(|v| v as D)))
        }
    }
}

fn parse_all<D: ort_core::PodElement>(
    ctx: &Ctx<'_>,
    x: &Tensor,
    to: ElemType,
    parse: impl Fn(&str) -> Option<D>,
) -> Result<Tensor, Error> {
    let src = x.as_slice::<RString>()?;
    let mut out = Vec::with_capacity(src.len());
    for s in src {
        let t = s.as_str().trim();
        out.push(
            parse(t).ok_or_else(|| Error::invalid(format!("cannot cast string {t:?} to {to}")))?,
        );
    }
    ctx.tensor_from::<D>(x.shape(), &out)
}

/// C's `printf("%.{prec}g")`, with ONNX Runtime's spellings of NaN and infinities.
pub(crate) fn fmt_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-INF" } else { "INF" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    fn trim(s: &str) -> &str {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        }
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let Some((mant, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.abs())
    } else {
        trim(&format!("{:.*}", (prec as i32 - 1 - exp) as usize, v)).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float8_round_trips_and_rounds_to_even() {
        for e in [
            ElemType::F8E4M3FN,
            ElemType::F8E4M3FNUZ,
            ElemType::F8E5M2,
            ElemType::F8E5M2FNUZ,
            ElemType::F4E2M1,
        ] {
            let f = MiniFloat::of(e).unwrap();
            let n = 1u32 << (f.exp + f.mant + 1);
            for c in 0..n as u8 {
                let v = f.decode(c);
                if v.is_finite() && !(v == 0.0 && f.special == Special::Fnuz && c != 0) {
                    assert_eq!(f.encode(v as f64, false), c, "{e} code {c:#x} ({v})");
                }
            }
        }
        let f = MiniFloat::of(ElemType::F8E4M3FN).unwrap();
        assert_eq!(f.decode(f.encode(464.0, true)), 448.0);
        assert!(f.decode(f.encode(480.0, false)).is_nan());
        assert_eq!(f.decode(f.encode(1.0625, true)), 1.0);
        assert_eq!(f.decode(f.encode(1.1875, true)), 1.25);
        let f = MiniFloat::of(ElemType::F4E2M1).unwrap();
        assert_eq!(f.decode(f.encode(2.5, false)), 2.0);
        assert_eq!(f.decode(f.encode(1e9, false)), 6.0);
        assert_eq!(e8m0_encode(1.1, true, E8M0Round::Up), 128);
        assert_eq!(e8m0_decode(128), 2.0);
        assert_eq!(wrap_bits(-9, 4, true) as i8, 7);
        assert_eq!(wrap_bits(8, 4, true) as i8, -8);
        assert_eq!(wrap_bits(-1, 2, false), 3);
    }
}
