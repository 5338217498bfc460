// 2-D convolution, NCHW, with groups, strides, pads and dilations (1-D runs with
// H = 1): one invocation per output element sums its window. Sizes come as push
// constants, so one pipeline serves every shape.

// include _conv_params.wgsl

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * p.head.y;
    if (i >= p.head.x) {
        return;
    }
    let c = p.input.x;
    let h = p.input.y;
    let wd = p.input.z;
    let m = p.input.w;
    let oh = p.out.x;
    let ow = p.out.y;
    let kh = p.out.z;
    let kw = p.out.w;
    let ox = i % ow;
    let oy = (i / ow) % oh;
    let om = (i / (ow * oh)) % m;
    let n = i / (ow * oh * m);
    let cg = c / p.head.w;
    let g = om / (m / p.head.w);
    var acc = 0.0;
    if (p.head.z == 1u) {
        acc = bias[om];
    }
    let y0 = i32(oy * p.step.x) - i32(p.step.z);
    let x0 = i32(ox * p.step.y) - i32(p.step.w);
    for (var ci = 0u; ci < cg; ci = ci + 1u) {
        let xc = (n * c + g * cg + ci) * h;
        let wc = (om * cg + ci) * kh;
        for (var ky = 0u; ky < kh; ky = ky + 1u) {
            let iy = y0 + i32(ky * p.dil.x);
            if (iy < 0 || iy >= i32(h)) {
                continue;
            }
            let xr = (xc + u32(iy)) * wd;
            let wr = (wc + ky) * kw;
            for (var kx = 0u; kx < kw; kx = kx + 1u) {
                let ix = x0 + i32(kx * p.dil.y);
                if (ix >= 0 && ix < i32(wd)) {
                    acc = acc + x[xr + u32(ix)] * w[wr + kx];
                }
            }
        }
    }
    y[i] = acc;
}
