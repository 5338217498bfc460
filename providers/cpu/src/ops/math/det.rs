//! Det: LU decomposition with partial pivoting, in f64, of each trailing square matrix.

use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, Outputs};
use crate::ops::{FLOATS, LATEST};
use crate::util::Num;

/// Determinants of the trailing `[M, M]` matrices, by LU decomposition with
/// partial pivoting in f64.
struct Det;

fn det(a: &mut [f64], m: usize) -> f64 {
    let mut d = 1.0;
    for c in 0..m {
        let p = (c..m)
            .max_by(|&i, &j| a[i * m + c].abs().total_cmp(&a[j * m + c].abs()))
            .unwrap_or(c);
        let piv = a[p * m + c];
        if piv == 0.0 {
            return 0.0;
        }
        if p != c {
            for k in 0..m {
                a.swap(p * m + k, c * m + k);
            }
            d = -d;
        }
        d *= piv;
        for r in c + 1..m {
            let f = a[r * m + c] / piv;
            if f != 0.0 {
                for k in c + 1..m {
                    a[r * m + k] -= f * a[c * m + k];
                }
            }
        }
    }
    d
}

impl Kernel for Det {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let x = input(inputs, 0)?;
        let s = x.shape();
        let r = s.len();
        if r < 2 || s[r - 1] != s[r - 2] {
            return Err(Error::invalid(format!(
                "Det needs square matrices in the last two dimensions, got shape {s:?}"
            )));
        }
        let m = s[r - 1] as usize;
        one(crate::dispatch_float!(x.elem(), T => {
            let src = x.as_slice::<T>()?;
            ctx.tensor(&s[..r - 2], |o: &mut [T]| {
                let mut buf = vec![0.0; m * m];
                for (i, o) in o.iter_mut().enumerate() {
                    let mat = &src[i * m * m..(i + 1) * m * m];
                    buf.iter_mut().zip(mat).for_each(|(b, &v)| *b = v.to_f64());
                    *o = T::from_f64(det(&mut buf, m));
                }
            })
        })?)
    }
}

crate::register!("Det", [11, LATEST], FLOATS, |_| Ok(Box::new(Det)));
