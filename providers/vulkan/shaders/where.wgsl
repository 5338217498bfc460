// y = cond ? a : b with numpy broadcasting of a and b (rank ≤ 8, strides as in
// binary.wgsl); the condition comes from the host already broadcast to y's shape.

struct Params {
    // x: element count, y: rank, w: elements per row of the dispatch grid
    head: vec4<u32>,
    dims: array<vec4<u32>, 2>,
    sa: array<vec4<u32>, 2>,
    sb: array<vec4<u32>, 2>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> cond: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

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
    y[i] = select(b[ib], a[ia], cond[i] != 0u);
}
