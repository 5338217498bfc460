// MaxPool and AveragePool over 2-D windows (1-D runs with H = 1; the global
// pools are one window over the whole plane): one invocation per output element.

struct Params {
    // x: output element count, y: elements per row of the dispatch grid,
    // z: 0 max, 1 average, w: 1 when the average counts the padding
    head: vec4<u32>,
    // input height and width, output height and width
    size: vec4<u32>,
    // kernel height and width, strides (h, w)
    win: vec4<u32>,
    // pads: begin h, begin w, end h, end w
    pads: vec4<u32>,
    // dilations (h, w)
    dil: vec4<u32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * p.head.y;
    if (i >= p.head.x) {
        return;
    }
    let h = i32(p.size.x);
    let w = i32(p.size.y);
    let oh = p.size.z;
    let ow = p.size.w;
    let ox = i % ow;
    let oy = (i / ow) % oh;
    let plane = i / (ow * oh);
    let y0 = i32(oy * p.win.z) - i32(p.pads.x);
    let x0 = i32(ox * p.win.w) - i32(p.pads.y);
    let base = plane * u32(h * w);
    var best = bitcast<f32>(0xff800000u);
    var sum = 0.0;
    var taps = 0u;
    var padded = 0u;
    var nan = false;
    for (var ky = 0u; ky < p.win.x; ky = ky + 1u) {
        let iy = y0 + i32(ky * p.dil.x);
        let in_y = iy >= 0 && iy < h;
        let pad_y = iy >= -i32(p.pads.x) && iy < h + i32(p.pads.z);
        for (var kx = 0u; kx < p.win.y; kx = kx + 1u) {
            let ix = x0 + i32(kx * p.dil.y);
            if (pad_y && ix >= -i32(p.pads.y) && ix < w + i32(p.pads.w)) {
                padded = padded + 1u;
            }
            if (in_y && ix >= 0 && ix < w) {
                let v = x[base + u32(iy * w + ix)];
                nan = nan || v != v;
                best = max(best, v);
                sum = sum + v;
                taps = taps + 1u;
            }
        }
    }
    if (p.head.z == 0u) {
        y[i] = select(best, bitcast<f32>(0x7fc00000u), nan);
    } else {
        let count = select(taps, padded, p.head.w == 1u);
        y[i] = select(sum / f32(count), 0.0, count == 0u);
    }
}
