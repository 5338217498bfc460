// Pooling and the im2col lowering of convolution (the product itself is a
// cuBLAS GEMM). Images are NCHW; 1-D ops run as H = 1.

struct Window {
    long long c, h, w, oh, ow;
    int kh, kw, sh, sw, ph, pw, dh, dw, eh, ew;
};

// Max (op 0) or average (op 1; `include_pad` counts padding in the divisor).
template <typename T>
__device__ void pool(const T* x, T* y, Window p, long long n, int op, int include_pad) {
    GRID_LOOP(i, n) {
        long long ox = i % p.ow, oy = (i / p.ow) % p.oh, nc = i / (p.ow * p.oh);
        const T* img = x + nc * p.h * p.w;
        float acc = op == 0 ? -__int_as_float(0x7f800000) : 0.f;
        int count = 0, padded = 0;
        for (int ky = 0; ky < p.kh; ++ky) {
            long long iy = oy * p.sh - p.ph + ky * p.dh;
            for (int kx = 0; kx < p.kw; ++kx) {
                long long ix = ox * p.sw - p.pw + kx * p.dw;
                bool inside = iy >= 0 && iy < p.h && ix >= 0 && ix < p.w;
                // Padding counts only where the window lies within the padded image.
                if (iy < p.h + p.eh && ix < p.w + p.ew) ++padded;
                if (!inside) continue;
                float v = to_f(img[iy * p.w + ix]);
                acc = op == 0 ? fmaxf(acc, v) : acc + v;
                ++count;
            }
        }
        if (op == 1) acc /= (float)(include_pad ? padded : (count ? count : 1));
        y[i] = from_f<T>(acc);
    }
}

// One image: col[(c·kh + ky)·kw + kx, oy·ow + ox] = x[c, iy, ix], 0 in the padding.
template <typename T>
__device__ void im2col(const T* x, T* col, Window p) {
    long long n = p.c * p.kh * p.kw * p.oh * p.ow;
    GRID_LOOP(i, n) {
        long long ox = i % p.ow, oy = (i / p.ow) % p.oh, r = i / (p.ow * p.oh);
        int kx = r % p.kw, ky = (r / p.kw) % p.kh;
        long long c = r / (p.kw * p.kh);
        long long iy = oy * p.sh - p.ph + ky * p.dh, ix = ox * p.sw - p.pw + kx * p.dw;
        bool inside = iy >= 0 && iy < p.h && ix >= 0 && ix < p.w;
        col[i] = inside ? x[(c * p.h + iy) * p.w + ix] : from_f<T>(0.f);
    }
}

#define WINDOWS(T, S)                                                                        \
    extern "C" __global__ void pool_##S(const T* x, T* y, Window p, long long n, int op,      \
                                        int include_pad) {                                   \
        pool<T>(x, y, p, n, op, include_pad);                                                \
    }                                                                                        \
    extern "C" __global__ void im2col_##S(const T* x, T* col, Window p) { im2col<T>(x, col, p); }
FLOATS(WINDOWS)
