// Softmax or LogSoftmax over the rows of a [rows, len] view, one workgroup per
// row: the maximum, then the sum of exponentials, reduced in workgroup memory.
// With `causal`, row r is query r mod sq and hides keys j > r mod sq + len - sq
// (the causal attention mask, applied without a mask tensor).

struct Params {
    // x: rows, y: row length, z: 1 for LogSoftmax, w: workgroups per grid row
    head: vec4<u32>,
    // x: 1 for causal, y: sq
    causal: vec4<u32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let row = wg.x + wg.y * p.head.w;
    if (row >= p.head.x) {
        return;
    }
    let len = p.head.y;
    let base = row * len;
    // Keys at or past `seen` are hidden.
    var seen = len;
    if (p.causal.x == 1u) {
        seen = row % p.causal.y + len - p.causal.y + 1u;
    }
    var m = bitcast<f32>(0xff800000u);
    for (var i = l.x; i < seen; i = i + 256u) {
        m = max(m, x[base + i]);
    }
    red[l.x] = m;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (l.x < s) {
            red[l.x] = max(red[l.x], red[l.x + s]);
        }
        workgroupBarrier();
    }
    let top = red[0];
    workgroupBarrier();
    var sum = 0.0;
    for (var i = l.x; i < seen; i = i + 256u) {
        sum = sum + exp(x[base + i] - top);
    }
    red[l.x] = sum;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (l.x < s) {
            red[l.x] = red[l.x] + red[l.x + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    for (var i = l.x; i < len; i = i + 256u) {
        let d = x[base + i] - top;
        if (i >= seen) {
            y[base + i] = select(0.0, bitcast<f32>(0xff800000u), p.head.z == 1u);
        } else if (p.head.z == 1u) {
            y[base + i] = d - log(total);
        } else {
            y[base + i] = exp(d) / total;
        }
    }
}
