// Batched y[b] = a[b] · b[b] for row-major M×K and K×N matrices (either one
// may be stored transposed), in 16×16 tiles
// staged through workgroup memory. Sizes and per-axis batch strides are push
// constants (a stride of 0 broadcasts an operand along that batch axis).

struct Params {
    // M, N, K, batch rank (≤ 4)
    dims: vec4<u32>,
    // the output's batch dims, innermost last
    bdims: vec4<u32>,
    // per batch axis, the element stride of a and of b (0: broadcast)
    sa: vec4<u32>,
    sb: vec4<u32>,
    // x: a is stored transposed (K×M), y: b is stored transposed (N×K)
    trans: vec4<u32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> ta: array<array<f32, 16>, 16>;
var<workgroup> tb: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let m = p.dims.x;
    let n = p.dims.y;
    let k = p.dims.z;
    let row = wg.y * 16u + l.y;
    let col = wg.x * 16u + l.x;
    var rem = wg.z;
    var ao = 0u;
    var bo = 0u;
    for (var i = i32(p.dims.w) - 1; i >= 0; i = i - 1) {
        let d = p.bdims[u32(i)];
        let c = rem % d;
        rem = rem / d;
        ao = ao + c * p.sa[u32(i)];
        bo = bo + c * p.sb[u32(i)];
    }
    var acc = 0.0;
    let tiles = (k + 15u) / 16u;
    for (var t = 0u; t < tiles; t = t + 1u) {
        let ka = t * 16u + l.x;
        var va = 0.0;
        if (row < m && ka < k) {
            va = a[ao + select(row * k + ka, ka * m + row, p.trans.x == 1u)];
        }
        ta[l.y][l.x] = va;
        let kb = t * 16u + l.y;
        var vb = 0.0;
        if (kb < k && col < n) {
            vb = b[bo + select(kb * n + col, col * k + kb, p.trans.y == 1u)];
        }
        tb[l.y][l.x] = vb;
        workgroupBarrier();
        for (var j = 0u; j < 16u; j = j + 1u) {
            acc = acc + ta[l.y][j] * tb[j][l.x];
        }
        workgroupBarrier();
    }
    if (row < m && col < n) {
        y[wg.z * m * n + row * n + col] = acc;
    }
}
