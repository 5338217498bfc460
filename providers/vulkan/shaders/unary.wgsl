// y = f(x) elementwise. The op code and its float parameters come as push
// constants, so one pipeline serves every unary op and every shape.

struct Params {
    // x: element count, y: op code (see ops/unary.rs), z: elements per row of the dispatch grid
    head: vec4<u32>,
    // op parameters (alpha, beta, min, max ...)
    args: vec4<f32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

// Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7); WGSL has no erf.
fn erf(v: f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let r = 1.0 - poly * exp(-a * a);
    return select(r, -r, v < 0.0);
}

// tanh through exp overflows to inf/inf on some drivers; it is ±1 well before 10.
fn tanh_safe(v: f32) -> f32 {
    return tanh(clamp(v, -10.0, 10.0));
}

// The float16 nearest to v, ties to even, as float32: 11 significant bits for
// normal values, multiples of 2^-24 below 2^-14, infinity from 65520 on.
fn round_f16(v: f32) -> f32 {
    let a = abs(v);
    if (a >= 65520.0) {
        return select(bitcast<f32>(0x7f800000u), bitcast<f32>(0xff800000u), v < 0.0);
    }
    if (a < 6.103515625e-05) {
        let q = 5.9604644775390625e-08;
        return select(1.0, -1.0, v < 0.0) * round(a / q) * q;
    }
    let b = bitcast<u32>(v);
    return bitcast<f32>((b + 0xfffu + ((b >> 13u) & 1u)) & 0xffffe000u);
}

fn apply(op: u32, v: f32) -> f32 {
    switch op {
        case 0u: { return max(v, 0.0); }
        case 1u: { return 1.0 / (1.0 + exp(-v)); }
        case 2u: { return tanh_safe(v); }
        case 3u: { return erf(v); }
        case 4u: { return 0.5 * v * (1.0 + erf(v * 0.70710678118654752)); }
        case 5u: { return 0.5 * v * (1.0 + tanh_safe(0.79788456080286536 * (v + 0.044715 * v * v * v))); }
        case 6u: { return sqrt(v); }
        case 7u: { return exp(v); }
        case 8u: { return log(v); }
        case 9u: { return -v; }
        case 10u: { return abs(v); }
        case 11u: { return select(v, p.args.x * v, v < 0.0); }
        case 12u: { return min(max(v, p.args.x), p.args.y); }
        case 13u: { return clamp(p.args.x * v + p.args.y, 0.0, 1.0); }
        case 14u: { return v * clamp(v / 6.0 + 0.5, 0.0, 1.0); }
        case 15u: { return 1.0 / v; }
        case 16u: { return floor(v); }
        case 17u: { return ceil(v); }
        case 18u: { return sin(v); }
        case 19u: { return cos(v); }
        case 21u: { return select(v, p.args.x * (exp(v) - 1.0), v < 0.0); }
        case 22u: { return p.args.y * select(v, p.args.x * (exp(v) - 1.0), v <= 0.0); }
        case 23u: { return select(log(1.0 + exp(v)), v, v > 30.0); }
        case 24u: { return v / (1.0 + abs(v)); }
        case 25u: { return sign(v); }
        case 26u: { return round_f16(v); }
        default: { return v; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * p.head.z;
    if (i >= p.head.x) {
        return;
    }
    let v = x[i];
    // NaN passes through every op unchanged, as on the CPU.
    if (v != v) {
        y[i] = v;
        return;
    }
    y[i] = apply(p.head.y, v);
}
