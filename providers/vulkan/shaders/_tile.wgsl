// The register-blocked tile that matmul.wgsl and conv_gemm.wgsl share: a
// workgroup of 16×16 invocations computes 64×64 outputs, each invocation a 4×4
// block (rows l.y + 16i, columns l.x + 16j, so the stores of a row of
// invocations are contiguous). K advances TK at a time through workgroup
// memory, stored k-major so the inner loop reads a row of each.
const T: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> ta: array<f32, 1024>; // [TK][T]: ta[kk * T + row]
var<workgroup> tb: array<f32, 1024>; // [TK][T]: tb[kk * T + col]

// This invocation's sums: acc[i][j] is row l.y + 16i, column l.x + 16j.
var<private> acc: array<vec4<f32>, 4>;

// Adds the staged ta · tb (one TK step) to acc.
fn tile_step(l: vec3<u32>) {
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
        let ar = kk * T + l.y;
        let br = kk * T + l.x;
        let bv = vec4<f32>(tb[br], tb[br + 16u], tb[br + 32u], tb[br + 48u]);
        acc[0] = acc[0] + ta[ar] * bv;
        acc[1] = acc[1] + ta[ar + 16u] * bv;
        acc[2] = acc[2] + ta[ar + 32u] * bv;
        acc[3] = acc[3] + ta[ar + 48u] * bv;
    }
}
