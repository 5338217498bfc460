//! Rust types that are tensor elements, and typed access to tensors.

use crate::abi::{vec_buffer, ElemType, Error, RString, Tensor, UniqueBuffer, Value};

/// A Rust type whose in-memory representation is that of a tensor element.
///
/// # Safety
/// `TYPE.size()` must equal `size_of::<Self>()` and every element of that ONNX type,
/// as stored in a tensor, must be a valid `Self`.
pub unsafe trait Element: Clone + Send + Sync + 'static {
    const TYPE: ElemType;
}

/// An element with no destructor that may be created from zeroed bytes.
///
/// # Safety
/// All-zero bytes must be a valid value.
pub unsafe trait PodElement: Element + Copy + Default {}

macro_rules! elements {
    ($($t:ty => $e:ident),*) => {$(
        // SAFETY: the type matches the element's size and every bit pattern stored for
        // this ONNX type is a valid value of it (bool tensors hold only 0 or 1).
        unsafe impl Element for $t { const TYPE: ElemType = ElemType::$e; }
        // SAFETY: zero is a valid value of each of these types.
        unsafe impl PodElement for $t {}
    )*};
}
elements!(f32 => F32, f64 => F64, i8 => I8, i16 => I16, i32 => I32, i64 => I64,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64, bool => Bool,
    half::f16 => F16, half::bf16 => BF16);

// SAFETY: string tensors store RString elements (see ElemType).
unsafe impl Element for RString {
    const TYPE: ElemType = ElemType::String;
}

impl Tensor {
    /// A host tensor that owns `data` (no copy).
    pub fn from_vec<T: Element>(shape: &[i64], data: Vec<T>) -> Result<Tensor, Error> {
        let n: i64 = shape.iter().product();
        if n as usize != data.len() {
            return Err(Error::invalid(format!(
                "shape {shape:?} holds {n} elements, data has {}",
                data.len()
            )));
        }
        Tensor::from_buffer(T::TYPE, shape, vec_buffer(data), 0)
    }

    /// A host tensor holding `data` of element type `elem` (for types with no Rust
    /// equivalent here, e.g. float8); `data` must be `elem.size()` bytes per element.
    pub fn from_bytes(elem: ElemType, shape: &[i64], data: Vec<u8>) -> Result<Tensor, Error> {
        if elem == ElemType::String {
            return Err(Error::invalid("string tensors cannot be made from bytes"));
        }
        Tensor::from_buffer(elem, shape, vec_buffer(data), 0)
    }

    pub fn scalar<T: Element>(v: T) -> Tensor {
        Tensor::from_vec(&[], vec![v]).expect("one element fits a scalar")
    }

    /// Fills a fresh buffer through `fill` and wraps it as a tensor.
    pub fn build<T: PodElement>(
        shape: &[i64],
        mut buffer: UniqueBuffer,
        fill: impl FnOnce(&mut [T]),
    ) -> Result<Tensor, Error> {
        let n = shape.iter().product::<i64>() as usize;
        if n == 0 {
            fill(&mut []);
            return Tensor::from_buffer(T::TYPE, shape, buffer.into_inner(), 0);
        }
        let bytes = buffer
            .bytes_mut()
            .ok_or_else(|| Error::invalid("cannot fill a device buffer on the host"))?;
        let need = n * std::mem::size_of::<T>();
        if bytes.len() < need {
            return Err(Error::invalid(format!(
                "buffer of {} bytes is too small for {n} elements of {}",
                bytes.len(),
                T::TYPE
            )));
        }
        if !(bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>()) {
            return Err(Error::invalid("buffer is not aligned for its element type"));
        }
        if T::TYPE == ElemType::Bool {
            // Reused memory may hold bytes that are not valid bools.
            bytes[..need].fill(0);
        }
        // SAFETY: size and alignment checked; T is plain data valid for any initialized
        // bytes the buffer holds (fresh buffers are zeroed or previously written T data).
        let slice = unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr() as *mut T, n) };
        fill(slice);
        Tensor::from_buffer(T::TYPE, shape, buffer.into_inner(), 0)
    }

    /// The elements, when the tensor is host-readable and of element type `T`.
    pub fn as_slice<T: Element>(&self) -> Result<&[T], Error> {
        if self.elem() != T::TYPE {
            return Err(Error::invalid(format!(
                "expected a tensor of {}, got {}",
                T::TYPE,
                self.elem()
            )));
        }
        let n = self.len();
        if n == 0 {
            return Ok(&[]);
        }
        let ptr = self.bytes().ok_or_else(|| {
            Error::invalid("tensor lives in device memory; copy it to the host first")
        })?;
        if !(ptr.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>()) {
            return Err(Error::invalid(
                "tensor data is not aligned for its element type",
            ));
        }
        // SAFETY: element type, length, alignment and host readability checked above.
        Ok(unsafe { std::slice::from_raw_parts(ptr.as_ptr() as *const T, n) })
    }

    /// A copy of the elements as a Vec.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>, Error> {
        Ok(self.as_slice::<T>()?.to_vec())
    }

    /// An integer tensor's elements widened to i64 (for shapes, indices, axes).
    pub fn to_i64_vec(&self) -> Result<Vec<i64>, Error> {
        Ok(match self.elem() {
            ElemType::I64 => self.as_slice::<i64>()?.to_vec(),
            ElemType::I32 => self.as_slice::<i32>()?.iter().map(|&v| v as i64).collect(),
            ElemType::I16 => self.as_slice::<i16>()?.iter().map(|&v| v as i64).collect(),
            ElemType::I8 => self.as_slice::<i8>()?.iter().map(|&v| v as i64).collect(),
            ElemType::U8 => self.as_slice::<u8>()?.iter().map(|&v| v as i64).collect(),
            ElemType::U16 => self.as_slice::<u16>()?.iter().map(|&v| v as i64).collect(),
            ElemType::U32 => self.as_slice::<u32>()?.iter().map(|&v| v as i64).collect(),
            ElemType::U64 => self.as_slice::<u64>()?.iter().map(|&v| v as i64).collect(),
            ElemType::Bool => self.as_slice::<bool>()?.iter().map(|&v| v as i64).collect(),
            e => {
                return Err(Error::invalid(format!(
                    "expected an integer tensor, got {e}"
                )))
            }
        })
    }

    /// A numeric tensor's elements as f64: the four wide float types and every
    /// integer type (for attributes, constants and comparisons, not hot loops).
    pub fn to_f64_vec(&self) -> Result<Vec<f64>, Error> {
        use half::{bf16, f16};
        Ok(match self.elem() {
            ElemType::F32 => self.as_slice::<f32>()?.iter().map(|&v| v as f64).collect(),
            ElemType::F64 => self.as_slice::<f64>()?.to_vec(),
            ElemType::F16 => self.as_slice::<f16>()?.iter().map(|v| v.to_f64()).collect(),
            ElemType::BF16 => self
                .as_slice::<bf16>()?
                .iter()
                .map(|v| v.to_f64())
                .collect(),
            ElemType::U64 => self.as_slice::<u64>()?.iter().map(|&v| v as f64).collect(),
            _ => self.to_i64_vec()?.into_iter().map(|v| v as f64).collect(),
        })
    }

    /// A copy of this tensor into fresh host memory (host-readable sources only).
    pub fn deep_copy(&self) -> Result<Tensor, Error> {
        if self.elem() == ElemType::String {
            return Tensor::from_vec(self.shape(), self.to_vec::<RString>()?);
        }
        let bytes = self
            .bytes()
            .ok_or_else(|| Error::invalid("cannot copy device memory on the host"))?;
        let mut buf = UniqueBuffer::host_zeroed(bytes.len());
        buf.bytes_mut().expect("host memory").copy_from_slice(bytes);
        Tensor::from_buffer(self.elem(), self.shape(), buf.into_inner(), 0)
    }
}

impl Value {
    /// The tensor inside, or an error naming what it is instead.
    pub fn tensor(&self) -> Result<&Tensor, Error> {
        self.as_tensor()
            .ok_or_else(|| Error::invalid(format!("expected a tensor, got a {}", self.kind_name())))
    }
}
