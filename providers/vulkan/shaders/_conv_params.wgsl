// The push constants and bindings conv.wgsl and conv_gemm.wgsl share.
struct Params {
    // x: output element count, y: elements per row of the dispatch grid, z: 1 with a bias, w: group
    head: vec4<u32>,
    // input channels, height, width; output channels
    input: vec4<u32>,
    // output height and width, kernel height and width
    out: vec4<u32>,
    // strides (h, w), pads at the start (h, w)
    step: vec4<u32>,
    // dilations (h, w); conv_gemm.wgsl: the batch size in z
    dil: vec4<u32>,
}

var<immediate> p: Params;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
