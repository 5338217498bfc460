// 2-D convolution, NCHW, as an implicit GEMM per group: y[m, p] = Σ_k w[m, k] ·
// col[k, p], where p runs over images × output positions and k over input
// channels × window, and col is read from x on the fly (no im2col buffer).
// Tiled and register-blocked like matmul.wgsl: a workgroup makes 64 output
// channels × 64 positions, each invocation a 4×4 block. Workgroup z is the
// group. The push constants are conv.wgsl's, with the batch size in dil.z.

// include _conv_params.wgsl
// include _tile.wgsl

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let groups = p.head.w;
    let c = p.input.x;
    let h = p.input.y;
    let wd = p.input.z;
    let mt = p.input.w;
    let oh = p.out.x;
    let ow = p.out.y;
    let kh = p.out.z;
    let kw = p.out.w;
    let cg = c / groups;
    let mg = mt / groups;
    let g = wg.z;
    let win = kh * kw;
    let kdim = cg * win;
    let plane = oh * ow;
    let cols = p.dil.z * plane;
    let m0 = wg.y * T;
    let p0 = wg.x * T;
    let tid = l.y * 16u + l.x;
    let tiles = (kdim + TK - 1u) / TK;
    for (var t = 0u; t < tiles; t = t + 1u) {
        for (var e = tid; e < T * TK; e = e + 256u) {
            // Weights: consecutive invocations read consecutive k of a row.
            let kk = e % TK;
            let r = e / TK;
            let om = m0 + r;
            let ka = t * TK + kk;
            var va = 0.0;
            if (om < mg && ka < kdim) {
                va = w[(g * mg + om) * kdim + ka];
            }
            ta[kk * T + r] = va;
            // Columns: consecutive invocations read consecutive positions.
            let kb = e / T;
            let cc = e % T;
            let pos = p0 + cc;
            let kg = t * TK + kb;
            var vb = 0.0;
            if (kg < kdim && pos < cols) {
                let n = pos / plane;
                let s = pos % plane;
                let oy = s / ow;
                let ox = s % ow;
                let ci = kg / win;
                let rr = kg % win;
                let iy = i32(oy * p.step.x + (rr / kw) * p.dil.x) - i32(p.step.z);
                let ix = i32(ox * p.step.y + (rr % kw) * p.dil.y) - i32(p.step.w);
                if (iy >= 0 && iy < i32(h) && ix >= 0 && ix < i32(wd)) {
                    vb = x[((n * c + g * cg + ci) * h + u32(iy)) * wd + u32(ix)];
                }
            }
            tb[kb * T + cc] = vb;
        }
        workgroupBarrier();
        tile_step(l);
        workgroupBarrier();
    }
    store(g * mg, m0 + l.y, p0 + l.x, mg, cols, plane, acc[0]);
    store(g * mg, m0 + l.y + 16u, p0 + l.x, mg, cols, plane, acc[1]);
    store(g * mg, m0 + l.y + 32u, p0 + l.x, mg, cols, plane, acc[2]);
    store(g * mg, m0 + l.y + 48u, p0 + l.x, mg, cols, plane, acc[3]);
}

// Writes output channel `first + om` at positions pos + 16j (with the bias).
fn store(first: u32, om: u32, pos: u32, mg: u32, cols: u32, plane: u32, v: vec4<f32>) {
    if (om >= mg) {
        return;
    }
    let ch = first + om;
    var b = 0.0;
    if (p.head.z == 1u) {
        b = bias[ch];
    }
    for (var j = 0u; j < 4u; j = j + 1u) {
        let q = pos + 16u * j;
        if (q < cols) {
            let n = q / plane;
            y[(n * p.input.w + ch) * plane + q % plane] = v[j] + b;
        }
    }
}
