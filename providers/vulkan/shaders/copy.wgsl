// y[dst + Σ cₖ·tₖ] = x[src + Σ cₖ·sₖ] over the coordinates c of a box of at most
// rank 8: one gather serves Transpose (permuted strides), Expand (zero strides),
// Slice (offsets and signed steps), Concat and Split (regions of a larger tensor).

struct Params {
    // x: element count, y: rank, z: elements per row of the dispatch grid
    head: vec4<u32>,
    // x: source offset, y: destination offset
    base: vec4<u32>,
    dims: array<vec4<u32>, 2>,
    src: array<vec4<i32>, 2>,
    dst: array<vec4<u32>, 2>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * p.head.z;
    if (i >= p.head.x) {
        return;
    }
    var rem = i;
    var si = i32(p.base.x);
    var di = p.base.y;
    for (var k = i32(p.head.y) - 1; k >= 0; k = k - 1) {
        let q = u32(k) / 4u;
        let r = u32(k) % 4u;
        let d = p.dims[q][r];
        let c = rem % d;
        rem = rem / d;
        si = si + i32(c) * p.src[q][r];
        di = di + c * p.dst[q][r];
    }
    y[di] = x[u32(si)];
}
