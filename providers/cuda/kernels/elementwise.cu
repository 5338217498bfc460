// Unary maps, activations, broadcasting binary ops, Where and per-channel
// epilogues. Op codes must match `Unary` and `Binary` in src/ops/.

__device__ __forceinline__ float unary_op(int op, float x, float a, float b) {
    switch (op) {
    case 0: return x;
    case 1: return fmaxf(x, 0.f);
    case 2: return 1.f / (1.f + expf(-x));
    case 3: return tanhf(x);
    case 4: return expf(x);
    case 5: return logf(x);
    case 6: return sqrtf(x);
    case 7: return fabsf(x);
    case 8: return -x;
    case 9: return erff(x);
    case 10: return 1.f / x;
    case 11: return floorf(x);
    case 12: return ceilf(x);
    case 13: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case 14: return 0.5f * x * (1.f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case 15: return x < 0.f ? a * x : x;
    case 16: return x < 0.f ? a * (expf(x) - 1.f) : x;
    case 17: return x > 20.f ? x : log1pf(expf(x));
    case 18: return fminf(fmaxf(x, a), b);
    case 19: return fmaxf(0.f, fminf(1.f, a * x + b));
    case 20: return x * fmaxf(0.f, fminf(1.f, x / 6.f + 0.5f));
    case 21: return sinf(x);
    case 22: return cosf(x);
    case 23: return rintf(x);
    case 24: return x > 0.f ? 1.f : (x < 0.f ? -1.f : x);
    case 25: return x / (1.f + fabsf(x));
    case 26: return x > 0.f ? b * x : b * a * (expf(x) - 1.f);
    case 27: return x * tanhf(x > 20.f ? x : log1pf(expf(x)));
    case 28: return x * a + b;
    case 29: return x * (1.f / (1.f + expf(-a * x)));
    default: return __int_as_float(0x7fc00000);
    }
}

__device__ __forceinline__ float binary_op(int op, float x, float y) {
    switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return powf(x, y);
    case 5: return fmaxf(x, y);
    case 6: return fminf(x, y);
    case 7: return x < 0.f ? x * y : x;
    default: return __int_as_float(0x7fc00000);
    }
}

template <typename T>
__device__ void unary(const T* x, T* y, long long n, int op, float a, float b) {
    GRID_LOOP(i, n) y[i] = from_f<T>(unary_op(op, to_f(x[i]), a, b));
}

// s[0], s[1]: the strides of a and b broadcast to the output shape d.n.
template <typename T>
__device__ void binary(const T* a, const T* b, T* y, Dims d, long long n, int op) {
    GRID_LOOP(i, n) {
        long long off[2];
        offsets(d, i, off, 2);
        y[i] = from_f<T>(binary_op(op, to_f(a[off[0]]), to_f(b[off[1]])));
    }
}

// s[0]: condition (bytes), s[1]: a, s[2]: b.
template <typename T>
__device__ void where_(const unsigned char* c, const T* a, const T* b, T* y, Dims d, long long n) {
    GRID_LOOP(i, n) {
        long long off[3];
        offsets(d, i, off, 3);
        y[i] = c[off[0]] ? a[off[1]] : b[off[2]];
    }
}

// y = act(x·scale[c] + shift[c] + residual) over [outer, C, inner]; scale, shift
// and residual may each be null.
template <typename T>
__device__ void channel(const T* x, const T* scale, const T* shift, const T* residual, T* y,
                        long long n, long long channels, long long inner, int op, float a,
                        float b) {
    GRID_LOOP(i, n) {
        long long c = (i / inner) % channels;
        float v = to_f(x[i]);
        if (scale) v *= to_f(scale[c]);
        if (shift) v += to_f(shift[c]);
        if (residual) v += to_f(residual[i]);
        y[i] = from_f<T>(unary_op(op, v, a, b));
    }
}

#define ELEMENTWISE(T, S)                                                                    \
    extern "C" __global__ void unary_##S(const T* x, T* y, long long n, int op, float a,     \
                                         float b) {                                          \
        unary<T>(x, y, n, op, a, b);                                                         \
    }                                                                                        \
    extern "C" __global__ void binary_##S(const T* a, const T* b, T* y, Dims d, long long n, \
                                          int op) {                                          \
        binary<T>(a, b, y, d, n, op);                                                        \
    }                                                                                        \
    extern "C" __global__ void where_##S(const unsigned char* c, const T* a, const T* b,     \
                                         T* y, Dims d, long long n) {                        \
        where_<T>(c, a, b, y, d, n);                                                         \
    }                                                                                        \
    extern "C" __global__ void channel_##S(const T* x, const T* scale, const T* shift,       \
                                           const T* residual, T* y, long long n,             \
                                           long long channels, long long inner, int op,      \
                                           float a, float b) {                               \
        channel<T>(x, scale, shift, residual, y, n, channels, inner, op, a, b);              \
    }
FLOATS(ELEMENTWISE)

#define CAST(S, SN, D, DN)                                                                   \
    extern "C" __global__ void cast_##SN##_##DN(const S* x, D* y, long long n) {             \
        GRID_LOOP(i, n) y[i] = from_f<D>(to_f(x[i]));                                        \
    }
#define CAST_FROM(S, SN) CAST(S, SN, float, f32) CAST(S, SN, half_t, f16) CAST(S, SN, bfloat_t, bf16)
FLOATS(CAST_FROM)
