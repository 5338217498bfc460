// Reductions over any set of axes: one thread per output element walks the
// reduced axes. `out` describes the output (s[0]: input strides per output
// axis), `red` the reduced axes (s[0]: their input strides). Op codes must
// match `Reduce` in src/ops/reduce.rs.

template <typename T>
__device__ void reduce(const T* x, T* y, Dims out, Dims red, long long n, long long count, int op) {
    GRID_LOOP(i, n) {
        long long base;
        offsets(out, i, &base, 1);
        float acc = op == 2 ? -__int_as_float(0x7f800000)
                  : op == 3 ? __int_as_float(0x7f800000)
                  : op == 4 ? 1.f : 0.f;
        float m = -__int_as_float(0x7f800000);
        if (op == 9)
            for (long long j = 0; j < count; ++j) {
                long long o;
                offsets(red, j, &o, 1);
                m = fmaxf(m, to_f(x[base + o]));
            }
        for (long long j = 0; j < count; ++j) {
            long long o;
            offsets(red, j, &o, 1);
            float v = to_f(x[base + o]);
            switch (op) {
            case 0: case 1: case 8: acc += v; break;
            case 2: acc = (v != v || acc != acc) ? v + acc : fmaxf(acc, v); break;
            case 3: acc = (v != v || acc != acc) ? v + acc : fminf(acc, v); break;
            case 4: acc *= v; break;
            case 5: case 7: acc += v * v; break;
            case 6: acc += fabsf(v); break;
            case 9: acc += expf(v - m); break;
            }
        }
        switch (op) {
        case 1: acc = acc / (float)count; break;
        case 7: acc = sqrtf(acc); break;
        case 8: acc = logf(acc); break;
        case 9: acc = m + logf(acc); break;
        }
        y[i] = from_f<T>(acc);
    }
}

#define REDUCE(T, S)                                                                         \
    extern "C" __global__ void reduce_##S(const T* x, T* y, Dims out, Dims red, long long n,  \
                                          long long count, int op) {                         \
        reduce<T>(x, y, out, red, n, count, op);                                             \
    }
FLOATS(REDUCE)
