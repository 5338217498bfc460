// Gather along one axis: y[o, j, i] = x[o, idx[j], i] over [outer, indices, inner],
// with the indices checked and made non-negative on the host.

struct Params {
    // x: output element count, y: elements per row of the dispatch grid,
    // z: inner size, w: index count
    head: vec4<u32>,
    // x: the gathered axis' length
    axis: vec4<u32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * p.head.y;
    if (i >= p.head.x) {
        return;
    }
    let inner = p.head.z;
    let t = i / inner;
    let j = t % p.head.w;
    let outer = t / p.head.w;
    y[i] = x[(outer * p.axis.x + idx[j]) * inner + i % inner];
}
