// Shared by every kernel file: the storage types, their conversion to and
// from float (all arithmetic is float32), the shape descriptor and the
// grid-stride loop. NVRTC compiles this with no headers at all, so float16
// and bfloat16 are plain 16-bit words converted here.

struct half_t { unsigned short x; };
struct bfloat_t { unsigned short x; };

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(half_t v) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v.x));
    return f;
}
__device__ __forceinline__ float to_f(bfloat_t v) { return __uint_as_float(((unsigned)v.x) << 16); }

template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ half_t from_f<half_t>(float v) {
    half_t h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.x) : "f"(v));
    return h;
}
// Round to nearest even, NaN kept quiet.
template <> __device__ __forceinline__ bfloat_t from_f<bfloat_t>(float v) {
    unsigned u = __float_as_uint(v);
    bfloat_t b;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        b.x = (unsigned short)((u >> 16) | 0x40u);
        return b;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    b.x = (unsigned short)(u >> 16);
    return b;
}

// Must match `Dims` in src/kernels.rs: a shape of up to 8 axes and up to four
// per-axis stride sets (in elements), one per operand.
#define MAX_RANK 8
struct Dims {
    int rank;
    int pad;
    long long n[MAX_RANK];
    long long s[4][MAX_RANK];
};

// The element offsets of linear index `i` of shape d.n in the first `k` stride sets.
__device__ __forceinline__ void offsets(const Dims& d, long long i, long long* off, int k) {
    for (int j = 0; j < k; ++j) off[j] = 0;
    for (int r = d.rank - 1; r >= 0; --r) {
        long long c = i % d.n[r];
        i /= d.n[r];
        for (int j = 0; j < k; ++j) off[j] += c * d.s[j][r];
    }
}

#define GRID_LOOP(i, n) \
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)

// One extern "C" entry per storage type: NAME_f32, NAME_f16, NAME_bf16.
#define FLOATS(M) M(float, f32) M(half_t, f16) M(bfloat_t, bf16)
