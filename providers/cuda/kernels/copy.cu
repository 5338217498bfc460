// Data movement by element size, so one kernel serves every element type:
// a strided copy (Transpose, Slice, Expand, Concat and Split are all one
// shape with source and destination strides) and Gather.

// Over the shape d.n: y[dst + offset by s[1]] = x[src + offset by s[0]].
template <typename T>
__device__ void strided(const T* x, T* y, Dims d, long long n, long long src, long long dst) {
    GRID_LOOP(i, n) {
        long long off[2];
        offsets(d, i, off, 2);
        y[dst + off[1]] = x[src + off[0]];
    }
}

// x is [outer, axis, inner], idx holds `count` indices already wrapped into
// 0..axis; y is [outer, count, inner].
template <typename T>
__device__ void gather(const T* x, const long long* idx, T* y, long long outer, long long axis,
                       long long inner, long long count) {
    long long n = outer * count * inner;
    GRID_LOOP(i, n) {
        long long k = i % inner;
        long long j = (i / inner) % count;
        long long o = i / (inner * count);
        y[i] = x[(o * axis + idx[j]) * inner + k];
    }
}

#define MOVES(T, S)                                                                          \
    extern "C" __global__ void strided_##S(const T* x, T* y, Dims d, long long n,             \
                                           long long src, long long dst) {                   \
        strided<T>(x, y, d, n, src, dst);                                                    \
    }                                                                                        \
    extern "C" __global__ void gather_##S(const T* x, const long long* idx, T* y,            \
                                          long long outer, long long axis, long long inner,  \
                                          long long count) {                                 \
        gather<T>(x, idx, y, outer, axis, inner, count);                                     \
    }
MOVES(unsigned char, b1)
MOVES(unsigned short, b2)
MOVES(unsigned int, b4)
MOVES(unsigned long long, b8)
