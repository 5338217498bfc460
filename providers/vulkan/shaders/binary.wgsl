// y = a ∘ b with numpy broadcasting. Shapes and strides come as push constants
// (rank ≤ 8; a stride of 0 repeats an operand along that axis), so no shape is
// baked into the shader and one pipeline serves every shape.

struct Params {
    // x: element count, y: rank, z: op code (see ops/binary.rs), w: elements per row of the dispatch grid
    head: vec4<u32>,
    dims: array<vec4<u32>, 2>,
    sa: array<vec4<u32>, 2>,
    sb: array<vec4<u32>, 2>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// ONNX Pow is defined for a negative base with an integral exponent. Small
// integral exponents multiply exactly (x² is common), as the CPU's powf rounds
// them; pow() goes through exp2(e·log2 x) and is off in the last bits.
fn power(x: f32, e: f32) -> f32 {
    if (floor(e) == e && abs(e) <= 64.0) {
        var n = u32(abs(e));
        var base = x;
        var r = 1.0;
        loop {
            if (n == 0u) {
                break;
            }
            if ((n & 1u) == 1u) {
                r = r * base;
            }
            base = base * base;
            n = n >> 1u;
        }
        return select(r, 1.0 / r, e < 0.0);
    }
    if (x < 0.0) {
        return bitcast<f32>(0x7fc00000u);
    }
    return pow(x, e);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * p.head.w;
    if (i >= p.head.x) {
        return;
    }
    var rem = i;
    var ia = 0u;
    var ib = 0u;
    for (var k = i32(p.head.y) - 1; k >= 0; k = k - 1) {
        let q = u32(k) / 4u;
        let r = u32(k) % 4u;
        let d = p.dims[q][r];
        let c = rem % d;
        rem = rem / d;
        ia = ia + c * p.sa[q][r];
        ib = ib + c * p.sb[q][r];
    }
    let u = a[ia];
    let v = b[ib];
    var out: f32;
    switch p.head.z {
        case 0u: { out = u + v; }
        case 1u: { out = u - v; }
        case 2u: { out = u * v; }
        case 3u: { out = u / v; }
        case 4u: { out = power(u, v); }
        case 5u: { out = select(max(u, v), u + v, u != u || v != v); }
        case 6u: { out = select(min(u, v), u + v, u != u || v != v); }
        case 7u: { out = select(u, v * u, u < 0.0); }
        default: { out = u; }
    }
    y[i] = out;
}
