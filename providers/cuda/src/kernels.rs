//! The CUDA C kernels (`kernels/*.cu`), compiled at run time by NVRTC into one
//! PTX module per device architecture, and the parameter structs they take.
//! Shapes and strides are kernel arguments, so one function serves every shape.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cudarc::driver::DeviceRepr;
use cudarc::nvrtc::{CompileOptions, Ptx};

/// The prelude first, then each family; compiled as one translation unit.
const SOURCES: &[&str] = &[
    include_str!("../kernels/prelude.cuh"),
    include_str!("../kernels/elementwise.cu"),
    include_str!("../kernels/copy.cu"),
    include_str!("../kernels/rows.cu"),
    include_str!("../kernels/reduce.cu"),
    include_str!("../kernels/conv.cu"),
];

/// Entry points defined for each float storage type, as `<name>_<f32|f16|bf16>`.
pub const PER_FLOAT: &[&str] = &[
    "unary",
    "binary",
    "where",
    "channel",
    "softmax",
    "layernorm",
    "causal",
    "reduce",
    "pool",
    "im2col",
];

/// Entry points defined per element size, as `<name>_b<1|2|4|8>`.
pub const PER_SIZE: &[&str] = &["strided", "gather"];

/// Every entry point the module defines.
pub fn entry_points() -> Vec<String> {
    let mut names = Vec::new();
    for f in PER_FLOAT {
        for t in FLOATS {
            names.push(format!("{f}_{t}"));
        }
    }
    for f in PER_SIZE {
        for b in [1, 2, 4, 8] {
            names.push(format!("{f}_b{b}"));
        }
    }
    for s in FLOATS {
        for d in FLOATS {
            names.push(format!("cast_{s}_{d}"));
        }
    }
    names
}

/// The suffixes of the float storage types.
pub const FLOATS: [&str; 3] = ["f32", "f16", "bf16"];

pub fn source() -> String {
    SOURCES.join("\n")
}

/// PTX for `arch` (`compute_90` and the like). Each architecture is compiled
/// once per process: sessions on the same kind of device share it.
pub fn compile(arch: &'static str) -> Result<Arc<Ptx>, String> {
    static CACHE: Mutex<Option<HashMap<&'static str, Arc<Ptx>>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(p) = cache.get(arch) {
        return Ok(p.clone());
    }
    let opts = CompileOptions {
        arch: Some(arch),
        // Keep IEEE division and square roots: results are compared with the CPU's.
        prec_div: Some(true),
        prec_sqrt: Some(true),
        ..Default::default()
    };
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(source(), opts)
        .map_err(|e| format!("NVRTC could not compile the CUDA kernels for {arch}: {e}"))?;
    let ptx = Arc::new(ptx);
    cache.insert(arch, ptx.clone());
    Ok(ptx)
}

/// The virtual architecture for a compute capability; PTX is JIT-compiled by
/// the driver for the exact device.
pub fn arch(major: i32, minor: i32) -> &'static str {
    match (major, minor) {
        (m, _) if m >= 10 => "compute_90",
        (9, _) => "compute_90",
        (8, 9) => "compute_89",
        (8, 6..) => "compute_86",
        (8, _) => "compute_80",
        (7, 5..) => "compute_75",
        _ => "compute_70",
    }
}

pub const MAX_RANK: usize = 8;

/// `Dims` in `kernels/prelude.cuh`: a shape and up to four stride sets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Dims {
    pub rank: i32,
    pad: i32,
    pub n: [i64; MAX_RANK],
    pub s: [[i64; MAX_RANK]; 4],
}

// SAFETY: plain old data with the C layout the kernels declare.
unsafe impl DeviceRepr for Dims {}

impl Dims {
    /// `shape` with one stride set per operand. Axes of extent 1 are dropped
    /// (they move no offset), so ranks above 8 still fit when they have them.
    pub fn new(shape: &[i64], strides: &[&[i64]]) -> Result<Dims, String> {
        let mut d = Dims::default();
        let mut r = 0;
        for k in 0..shape.len() {
            if shape[k] == 1 {
                continue;
            }
            if r == MAX_RANK {
                return Err(format!("shape {shape:?} has more than {MAX_RANK} axes"));
            }
            d.n[r] = shape[k];
            for (j, st) in strides.iter().enumerate() {
                d.s[j][r] = st[k];
            }
            r += 1;
        }
        d.rank = r as i32;
        Ok(d)
    }
}

/// `Window` in `kernels/conv.cu`: one image's extents and a 2-D window.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    pub c: i64,
    pub h: i64,
    pub w: i64,
    pub oh: i64,
    pub ow: i64,
    pub kh: i32,
    pub kw: i32,
    pub sh: i32,
    pub sw: i32,
    pub ph: i32,
    pub pw: i32,
    pub dh: i32,
    pub dw: i32,
    pub eh: i32,
    pub ew: i32,
}

// SAFETY: plain old data with the C layout the kernels declare.
unsafe impl DeviceRepr for Window {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_drop_unit_axes_and_keep_strides() {
        let d = Dims::new(&[2, 1, 3], &[&[3, 3, 1], &[0, 0, 1]]).unwrap();
        assert_eq!(d.rank, 2);
        assert_eq!(&d.n[..2], &[2, 3]);
        assert_eq!(&d.s[0][..2], &[3, 1]);
        assert_eq!(&d.s[1][..2], &[0, 1]);
        assert!(Dims::new(&[2; 9], &[]).is_err());
        assert_eq!(std::mem::size_of::<Dims>(), 8 + 8 * 8 + 4 * 8 * 8);
        assert_eq!(std::mem::size_of::<Window>(), 5 * 8 + 10 * 4);
    }

    /// Needs only libnvrtc (no GPU, no driver): `cargo xtask test` installs it
    /// from PyPI when it can. Without it the test says so and passes, since
    /// the crate must build and test on machines without CUDA.
    #[test]
    fn kernels_compile_with_nvrtc_and_define_every_entry_point() {
        // SAFETY: only probes whether the library can be opened.
        if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
            eprintln!("libnvrtc not found: the kernel source was not compiled");
            if std::env::var_os("ORT_REQUIRE_NVRTC").is_some() {
                panic!("ORT_REQUIRE_NVRTC is set but libnvrtc cannot be loaded");
            }
            return;
        }
        for arch in ["compute_70", "compute_90"] {
            let ptx = compile(arch).unwrap_or_else(|e| panic!("{e}"));
            let text = ptx.to_src();
            for name in entry_points() {
                assert!(
                    text.contains(&format!(".entry {name}(")),
                    "{arch}: no entry point {name}"
                );
            }
        }
    }
}
