// Batched y[b] = a[b] · b[b] for row-major M×K and K×N matrices (either one
// may be stored transposed), register-blocked in 64×64 tiles staged through
// workgroup memory. Sizes and per-axis batch strides are push
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

// include _tile.wgsl

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let m = p.dims.x;
    let n = p.dims.y;
    let k = p.dims.z;
    let row0 = wg.y * T;
    let col0 = wg.x * T;
    let tid = l.y * 16u + l.x;
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
    let tiles = (k + TK - 1u) / TK;
    for (var t = 0u; t < tiles; t = t + 1u) {
        for (var e = tid; e < T * TK; e = e + 256u) {
            // A: consecutive invocations read consecutive k (row-major a) or
            // rows (transposed a).
            var kk = e % TK;
            var r = e / TK;
            if (p.trans.x == 1u) {
                kk = e / T;
                r = e % T;
            }
            let row = row0 + r;
            let ka = t * TK + kk;
            var va = 0.0;
            if (row < m && ka < k) {
                va = a[ao + select(row * k + ka, ka * m + row, p.trans.x == 1u)];
            }
            ta[kk * T + r] = va;
            // B: consecutive columns (row-major b) or k (transposed b).
            var kb = e / T;
            var cc = e % T;
            if (p.trans.y == 1u) {
                kb = e % TK;
                cc = e / TK;
            }
            let col = col0 + cc;
            let kg = t * TK + kb;
            var vb = 0.0;
            if (kg < k && col < n) {
                vb = b[bo + select(kg * n + col, col * k + kg, p.trans.y == 1u)];
            }
            tb[kb * T + cc] = vb;
        }
        workgroupBarrier();
        tile_step(l);
        workgroupBarrier();
    }
    let base = wg.z * m * n;
    store(base, row0 + l.y, col0 + l.x, m, n, acc[0]);
    store(base, row0 + l.y + 16u, col0 + l.x, m, n, acc[1]);
    store(base, row0 + l.y + 32u, col0 + l.x, m, n, acc[2]);
    store(base, row0 + l.y + 48u, col0 + l.x, m, n, acc[3]);
}

// Writes one row of an invocation's block: columns col + 16j.
fn store(base: u32, row: u32, col: u32, m: u32, n: u32, v: vec4<f32>) {
    if (row >= m) {
        return;
    }
    for (var j = 0u; j < 4u; j = j + 1u) {
        let c = col + 16u * j;
        if (c < n) {
            y[base + row * n + c] = v[j];
        }
    }
}
