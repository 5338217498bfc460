// Reductions over the rows of a [rows, len] view (the reduced axes moved last),
// one workgroup per row, combined in workgroup memory.

struct Params {
    // x: rows, y: row length, z: op code (see ops/reduce.rs), w: workgroups per grid row
    head: vec4<u32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

var<workgroup> red: array<f32, 256>;

fn init(op: u32) -> f32 {
    switch op {
        case 2u, 9u: { return bitcast<f32>(0xff800000u); }
        case 3u: { return bitcast<f32>(0x7f800000u); }
        case 4u: { return 1.0; }
        default: { return 0.0; }
    }
}

fn combine(op: u32, a: f32, b: f32) -> f32 {
    switch op {
        case 2u, 9u: { return max(a, b); }
        case 3u: { return min(a, b); }
        case 4u: { return a * b; }
        default: { return a + b; }
    }
}

fn term(op: u32, v: f32) -> f32 {
    switch op {
        case 5u, 7u: { return v * v; }
        case 6u: { return abs(v); }
        default: { return v; }
    }
}

fn reduce(op: u32, l: u32, v: f32) -> f32 {
    red[l] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (l < s) {
            red[l] = combine(op, red[l], red[l + s]);
        }
        workgroupBarrier();
    }
    let t = red[0];
    workgroupBarrier();
    return t;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let row = wg.x + wg.y * p.head.w;
    if (row >= p.head.x) {
        return;
    }
    let op = p.head.z;
    let len = p.head.y;
    let base = row * len;
    var acc = init(op);
    for (var i = l.x; i < len; i = i + 256u) {
        acc = combine(op, acc, term(op, x[base + i]));
    }
    var r = reduce(op, l.x, acc);
    if (op == 9u) {
        // log Σ exp(x - max) + max
        var s = 0.0;
        for (var i = l.x; i < len; i = i + 256u) {
            s = s + exp(x[base + i] - r);
        }
        let top = r;
        r = log(reduce(0u, l.x, s)) + top;
        if (top == bitcast<f32>(0xff800000u)) {
            r = top;
        }
    }
    if (l.x == 0u) {
        switch op {
            case 1u: { r = r / f32(len); }
            case 7u: { r = sqrt(r); }
            case 8u: { r = log(r); }
            default: {}
        }
        y[row] = r;
    }
}
