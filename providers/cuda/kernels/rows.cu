// One thread block per row: Softmax / LogSoftmax along an axis, and
// LayerNormalization over the trailing axes. Blocks are 256 threads.

#define ROW_THREADS 256

// Block-wide reduction of v (sum when max_ == 0, else max) through `buf`.
__device__ float block_reduce(float v, float* buf, int max_) {
    int t = threadIdx.x;
    buf[t] = v;
    __syncthreads();
    for (int w = ROW_THREADS / 2; w > 0; w >>= 1) {
        if (t < w) buf[t] = max_ ? fmaxf(buf[t], buf[t + w]) : buf[t] + buf[t + w];
        __syncthreads();
    }
    float r = buf[0];
    __syncthreads();
    return r;
}

// v rounded to T and back: float32 is unchanged.
template <typename T>
__device__ float as_t(float v) { return to_f(from_f<T>(v)); }

// x is [outer, n, inner]; block b handles (b / inner, :, b % inner).
template <typename T>
__device__ void softmax(const T* x, T* y, long long outer, long long n, long long inner, int log_) {
    __shared__ float buf[ROW_THREADS];
    for (long long row = blockIdx.x; row < outer * inner; row += gridDim.x) {
        long long base = (row / inner) * n * inner + row % inner;
        float m = -__int_as_float(0x7f800000);
        for (long long j = threadIdx.x; j < n; j += ROW_THREADS) m = fmaxf(m, to_f(x[base + j * inner]));
        m = block_reduce(m, buf, 1);
        // Softmax of float16/bfloat16 rounds the shifted inputs, the
        // exponentials and their sum to T, as the reference computes in T
        // (identity for float32). LogSoftmax keeps float32 throughout.
        float s = 0.f;
        for (long long j = threadIdx.x; j < n; j += ROW_THREADS) {
            float v = to_f(x[base + j * inner]) - m;
            s += log_ ? expf(v) : as_t<T>(expf(as_t<T>(v)));
        }
        s = block_reduce(s, buf, 0);
        if (!log_) s = as_t<T>(s);
        for (long long j = threadIdx.x; j < n; j += ROW_THREADS) {
            float v = to_f(x[base + j * inner]) - m;
            y[base + j * inner] = from_f<T>(log_ ? v - logf(s) : as_t<T>(expf(as_t<T>(v))) / s);
        }
    }
}

// Rows of n contiguous values; scale and bias (nullable) have n values.
template <typename T>
__device__ void layernorm(const T* x, const T* scale, const T* bias, T* y, long long rows,
                          long long n, float eps, int rms) {
    __shared__ float buf[ROW_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * n;
        float mean = 0.f;
        if (!rms) {
            float s = 0.f;
            for (long long j = threadIdx.x; j < n; j += ROW_THREADS) s += to_f(xr[j]);
            mean = block_reduce(s, buf, 0) / (float)n;
        }
        float q = 0.f;
        for (long long j = threadIdx.x; j < n; j += ROW_THREADS) {
            float d = to_f(xr[j]) - mean;
            q += d * d;
        }
        float inv = rsqrtf(block_reduce(q, buf, 0) / (float)n + eps);
        for (long long j = threadIdx.x; j < n; j += ROW_THREADS) {
            float v = (to_f(xr[j]) - mean) * inv * to_f(scale[j]);
            if (bias) v += to_f(bias[j]);
            y[row * n + j] = from_f<T>(v);
        }
    }
}

// Scores [.., sq, sk]: key j is hidden from query i when j > i + sk - sq.
template <typename T>
__device__ void causal(T* s, long long n, long long sq, long long sk) {
    GRID_LOOP(i, n) {
        long long j = i % sk, q = (i / sk) % sq;
        if (j > q + sk - sq) s[i] = from_f<T>(-__int_as_float(0x7f800000));
    }
}

#define ROWS(T, S)                                                                           \
    extern "C" __global__ void softmax_##S(const T* x, T* y, long long outer, long long n,    \
                                           long long inner, int log_) {                      \
        softmax<T>(x, y, outer, n, inner, log_);                                             \
    }                                                                                        \
    extern "C" __global__ void layernorm_##S(const T* x, const T* scale, const T* bias, T* y, \
                                             long long rows, long long n, float eps,         \
                                             int rms) {                                      \
        layernorm<T>(x, scale, bias, y, rows, n, eps, rms);                                  \
    }                                                                                        \
    extern "C" __global__ void causal_##S(T* s, long long n, long long sq, long long sk) {   \
        causal<T>(s, n, sq, sk);                                                             \
    }
FLOATS(ROWS)
