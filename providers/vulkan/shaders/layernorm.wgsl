// LayerNormalization over the rows of a [rows, len] view, one workgroup per row:
// the mean, then the variance of the centred values (two passes, as exact as
// the CPU's), reduced in workgroup memory; then y = (x - mean) / sqrt(var + eps)
// · scale + bias.

struct Params {
    // x: rows, y: row length, z: workgroups per grid row, w: 1 with a bias
    head: vec4<u32>,
    // x: epsilon
    eps: vec4<f32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> red: array<f32, 256>;

fn total(l: u32, v: f32) -> f32 {
    red[l] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (l < s) {
            red[l] = red[l] + red[l + s];
        }
        workgroupBarrier();
    }
    let t = red[0];
    workgroupBarrier();
    return t;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let row = wg.x + wg.y * p.head.z;
    if (row >= p.head.x) {
        return;
    }
    let len = p.head.y;
    let base = row * len;
    var s = 0.0;
    for (var i = l.x; i < len; i = i + 256u) {
        s = s + x[base + i];
    }
    let mean = total(l.x, s) / f32(len);
    var q = 0.0;
    for (var i = l.x; i < len; i = i + 256u) {
        let d = x[base + i] - mean;
        q = q + d * d;
    }
    let inv = 1.0 / sqrt(total(l.x, q) / f32(len) + p.eps.x);
    for (var i = l.x; i < len; i = i + 256u) {
        var v = (x[base + i] - mean) * inv * scale[i];
        if (p.head.w == 1u) {
            v = v + bias[i];
        }
        y[base + i] = v;
    }
}
