//! cuDNN for convolutions, when the library is found (option `cudnn`: `auto`
//! by default, `1` to require it, `0` for the im2col + cuBLAS path alone).
//!
//! Each lane holds a cuDNN handle bound to its stream. The algorithm for a
//! convolution is cuDNN's heuristic pick (as PyTorch eager makes it), asked
//! once per shape and cached on the device. With `tf32=0` float32
//! convolutions run with `CUDNN_FMA_MATH` (no TF32), so results match float32
//! references.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Mutex, OnceLock};

use cudarc::cudnn::{result, sys};
use cudarc::driver::CudaStream;
use ort_core::{ElemType, Error};

use crate::driver::guarded;
use crate::libs;

/// The most workspace one convolution may take.
const WORKSPACE_LIMIT: usize = 256 << 20;

/// Finds cuDNN 9 and opens it (and the libraries it loads by soname) once
/// per process.
pub fn load() -> Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let folders = libs::folders(None, &libs::Process);
            libs::preload(&folders, &libs::CUDNN, None)?;
            guarded("cuDNN", || {
                // SAFETY: only tries to open the library by name.
                if !unsafe { sys::is_culib_present() } {
                    return Err("cuDNN was found but cudarc cannot open it".into());
                }
                let v = result::get_version();
                if v < 90000 {
                    return Err(format!("cuDNN {v} is older than 9.0"));
                }
                Ok(())
            })
        })
        .clone()
}

/// A cuDNN handle bound to one lane's stream.
pub struct Handle(sys::cudnnHandle_t);

// SAFETY: a handle belongs to one lane, used by one thread at a time.
unsafe impl Send for Handle {}

impl Handle {
    pub fn new(stream: &CudaStream) -> Result<Handle, String> {
        guarded("cudnnCreate", || {
            let h = result::create_handle().map_err(|e| format!("cudnnCreate: {e:?}"))?;
            let handle = Handle(h);
            // SAFETY: the handle was just made; the stream outlives the lane
            // that holds both (the lane drops the handle first).
            unsafe { result::set_stream(h, stream.cu_stream() as sys::cudaStream_t) }
                .map_err(|e| format!("cudnnSetStream: {e:?}"))?;
            Ok(handle)
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = guarded("cudnnDestroy", || {
            // SAFETY: made by `new`, destroyed once.
            unsafe { result::destroy_handle(self.0) }.map_err(|e| format!("{e:?}"))
        });
    }
}

/// A 2-D convolution as cuDNN describes it (1-D ones have H = 1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConvSpec {
    pub x: [i32; 4],
    pub w: [i32; 4],
    pub y: [i32; 4],
    pub pad: [i32; 2],
    pub stride: [i32; 2],
    pub dilation: [i32; 2],
    pub group: i32,
    pub elem: ElemType,
    pub tf32: bool,
}

#[derive(Clone, Copy, Debug)]
struct Choice {
    algo: sys::cudnnConvolutionFwdAlgo_t,
    math: sys::cudnnMathType_t,
    workspace: usize,
}

/// The algorithms picked so far, per convolution shape.
#[derive(Default)]
pub struct Algos(Mutex<HashMap<ConvSpec, Option<Choice>>>);

/// Descriptors for one convolution, destroyed on drop.
struct Descs {
    x: sys::cudnnTensorDescriptor_t,
    y: sys::cudnnTensorDescriptor_t,
    w: sys::cudnnFilterDescriptor_t,
    conv: sys::cudnnConvolutionDescriptor_t,
}

impl Drop for Descs {
    fn drop(&mut self) {
        // SAFETY: each was made by `describe` and is destroyed once here.
        unsafe {
            let _ = result::destroy_tensor_descriptor(self.x);
            let _ = result::destroy_tensor_descriptor(self.y);
            let _ = result::destroy_filter_descriptor(self.w);
            let _ = result::destroy_convolution_descriptor(self.conv);
        }
    }
}

fn dtype(e: ElemType) -> Result<sys::cudnnDataType_t, String> {
    Ok(match e {
        ElemType::F32 => sys::cudnnDataType_t::CUDNN_DATA_FLOAT,
        ElemType::F16 => sys::cudnnDataType_t::CUDNN_DATA_HALF,
        ElemType::BF16 => sys::cudnnDataType_t::CUDNN_DATA_BFLOAT16,
        e => return Err(format!("no cuDNN convolution for {e}")),
    })
}

fn describe(s: &ConvSpec, math: sys::cudnnMathType_t) -> Result<Descs, String> {
    fn e(what: &str) -> impl Fn(result::CudnnError) -> String + '_ {
        move |err| format!("{what}: {err:?}")
    }
    let t = dtype(s.elem)?;
    let nchw = sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW;
    // Made one by one so a failure part way destroys what was made.
    let mut d = Descs {
        x: result::create_tensor_descriptor().map_err(e("tensor descriptor"))?,
        y: std::ptr::null_mut(),
        w: std::ptr::null_mut(),
        conv: std::ptr::null_mut(),
    };
    d.y = result::create_tensor_descriptor().map_err(e("tensor descriptor"))?;
    d.w = result::create_filter_descriptor().map_err(e("filter descriptor"))?;
    d.conv = result::create_convolution_descriptor().map_err(e("convolution descriptor"))?;
    let [n, c, h, w] = s.x;
    let [yn, yc, yh, yw] = s.y;
    let [k, kc, kh, kw] = s.w;
    // SAFETY: the descriptors were just made; every argument is a plain value.
    unsafe {
        result::set_tensor4d_descriptor(d.x, nchw, t, [n, c, h, w]).map_err(e("input"))?;
        result::set_tensor4d_descriptor(d.y, nchw, t, [yn, yc, yh, yw]).map_err(e("output"))?;
        result::set_filter4d_descriptor(d.w, t, nchw, [k, kc, kh, kw]).map_err(e("weights"))?;
        result::set_convolution2d_descriptor(
            d.conv,
            s.pad[0],
            s.pad[1],
            s.stride[0],
            s.stride[1],
            s.dilation[0],
            s.dilation[1],
            sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
            sys::cudnnDataType_t::CUDNN_DATA_FLOAT,
        )
        .map_err(e("convolution"))?;
        result::set_convolution_group_count(d.conv, s.group).map_err(e("groups"))?;
        result::set_convolution_math_type(d.conv, math).map_err(e("math type"))?;
    }
    Ok(d)
}

/// The math type a spec allows before an algorithm is picked: FMA alone for
/// float32 without TF32, tensor cores otherwise.
fn allowed_math(s: &ConvSpec) -> sys::cudnnMathType_t {
    match (s.elem, s.tf32) {
        (ElemType::F32, false) => sys::cudnnMathType_t::CUDNN_FMA_MATH,
        (ElemType::F32, true) => sys::cudnnMathType_t::CUDNN_DEFAULT_MATH,
        _ => sys::cudnnMathType_t::CUDNN_TENSOR_OP_MATH,
    }
}

impl Algos {
    /// Marks `s` as one cuDNN does not run (its pick failed at launch).
    fn forget(&self, s: &ConvSpec) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(s.clone(), None);
    }

    /// The cached pick for `s`, asking cuDNN's heuristics the first time.
    /// `None`: cuDNN offers nothing that fits (the caller uses im2col).
    fn pick(&self, h: &Handle, s: &ConvSpec) -> Result<Option<Choice>, String> {
        if let Some(c) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(s) {
            return Ok(*c);
        }
        let math = allowed_math(s);
        let d = describe(s, math)?;
        const ASK: usize = 8;
        // SAFETY: plain-old-data structs that cuDNN fills in.
        let mut perf: [sys::cudnnConvolutionFwdAlgoPerf_t; ASK] = unsafe { std::mem::zeroed() };
        let mut got = 0i32;
        // SAFETY: the handle and descriptors are live; `perf` holds ASK entries.
        unsafe {
            result::get_convolution_forward_algorithm(
                h.0,
                d.x,
                d.w,
                d.conv,
                d.y,
                ASK as i32,
                &mut got,
                perf.as_mut_ptr(),
            )
        }
        .map_err(|e| format!("cudnnGetConvolutionForwardAlgorithm_v7: {e:?}"))?;
        let strict = math == sys::cudnnMathType_t::CUDNN_FMA_MATH;
        let choice = perf[..(got.max(0) as usize).min(ASK)]
            .iter()
            .find(|p| {
                p.status == sys::cudnnStatus_t::CUDNN_STATUS_SUCCESS
                    && p.memory <= WORKSPACE_LIMIT
                    && (!strict
                        || matches!(
                            p.mathType,
                            sys::cudnnMathType_t::CUDNN_FMA_MATH
                                | sys::cudnnMathType_t::CUDNN_DEFAULT_MATH
                        ))
            })
            .map(|p| Choice {
                algo: p.algo,
                math: if strict { math } else { p.mathType },
                workspace: p.memory,
            });
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(s.clone(), choice);
        Ok(choice)
    }
}

/// `y = conv(x, w)` on the lane's stream. Returns false, having written
/// nothing, when cuDNN has no algorithm for it or its launch fails (the shape
/// then goes to im2col from then on).
pub fn conv_forward(
    cx: &crate::ops::Cx<'_>,
    s: &ConvSpec,
    x: u64,
    w: u64,
    y: u64,
) -> Result<bool, Error> {
    let fail = |e: String| Error::fail(format!("cuDNN: {e}"));
    let h = cx.lane.dnn().map_err(fail)?;
    let Some(algos) = cx.gpu.dnn.as_ref() else {
        return Ok(false);
    };
    let Some(choice) = guarded("cuDNN", || algos.pick(h, s)).map_err(fail)? else {
        return Ok(false);
    };
    let d = guarded("cuDNN", || describe(s, choice.math)).map_err(fail)?;
    let ws = if choice.workspace > 0 {
        let block = cx.alloc(&[choice.workspace as i64], ElemType::U8)?;
        let p = block.ptr();
        cx.keep(block);
        p
    } else {
        0
    };
    let (alpha, beta) = (1f32, 0f32);
    let ran = guarded("cudnnConvolutionForward", || {
        // SAFETY: x, w and y are live device blocks of the shapes the
        // descriptors give (checked by the caller); the workspace is as large
        // as cuDNN asked for and is held until the stream is synchronized;
        // alpha and beta are host floats, as float, half and bfloat16 data take.
        unsafe {
            result::convolution_forward(
                h.0,
                &alpha as *const f32 as *const c_void,
                d.x,
                x as *const c_void,
                d.w,
                w as *const c_void,
                d.conv,
                choice.algo,
                ws as *mut c_void,
                choice.workspace,
                &beta as *const f32 as *const c_void,
                d.y,
                y as *mut c_void,
            )
        }
        .map_err(|e| format!("{e:?}"))
    });
    if ran.is_err() {
        // Nothing was written: forget the pick and let im2col compute it.
        algos.forget(s);
        return Ok(false);
    }
    Ok(true)
}
