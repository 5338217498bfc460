//! Element types, dimensions and value types as they cross the boundary.

use abi_stable::std_types::{RBox, ROption, RString, RVec};
use abi_stable::StableAbi;

/// A tensor element type. Discriminants are ONNX's `TensorProto.DataType` codes.
///
/// In memory every element takes a whole number of bytes: the 4- and 2-bit types
/// (`U4`, `I4`, `F4E2M1`, `U2`, `I2`) are stored one element per byte, unpacked;
/// they are packed only in files. `String` elements are [`RString`]s.
/// Adding a variant is a minor ABI version bump.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElemType {
    Undefined = 0,
    F32 = 1,
    U8 = 2,
    I8 = 3,
    U16 = 4,
    I16 = 5,
    I32 = 6,
    I64 = 7,
    String = 8,
    Bool = 9,
    F16 = 10,
    F64 = 11,
    U32 = 12,
    U64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BF16 = 16,
    F8E4M3FN = 17,
    F8E4M3FNUZ = 18,
    F8E5M2 = 19,
    F8E5M2FNUZ = 20,
    U4 = 21,
    I4 = 22,
    F4E2M1 = 23,
    F8E8M0 = 24,
    U2 = 25,
    I2 = 26,
}

impl ElemType {
    pub const ALL: [ElemType; 26] = [
        ElemType::F32,
        ElemType::U8,
        ElemType::I8,
        ElemType::U16,
        ElemType::I16,
        ElemType::I32,
        ElemType::I64,
        ElemType::String,
        ElemType::Bool,
        ElemType::F16,
        ElemType::F64,
        ElemType::U32,
        ElemType::U64,
        ElemType::Complex64,
        ElemType::Complex128,
        ElemType::BF16,
        ElemType::F8E4M3FN,
        ElemType::F8E4M3FNUZ,
        ElemType::F8E5M2,
        ElemType::F8E5M2FNUZ,
        ElemType::U4,
        ElemType::I4,
        ElemType::F4E2M1,
        ElemType::F8E8M0,
        ElemType::U2,
        ElemType::I2,
    ];

    /// The element type for an ONNX `DataType` code.
    pub fn from_onnx(code: i32) -> Option<ElemType> {
        ElemType::ALL.iter().copied().find(|e| *e as i32 == code)
    }

    /// Bytes one element takes in memory (see the type's note on sub-byte types).
    pub fn size(self) -> usize {
        use ElemType::*;
        match self {
            Undefined => 0,
            U8 | I8 | Bool | F8E4M3FN | F8E4M3FNUZ | F8E5M2 | F8E5M2FNUZ | U4 | I4 | F4E2M1
            | F8E8M0 | U2 | I2 => 1,
            U16 | I16 | F16 | BF16 => 2,
            F32 | I32 | U32 => 4,
            F64 | I64 | U64 | Complex64 => 8,
            Complex128 => 16,
            String => std::mem::size_of::<RString>(),
        }
    }

    /// Bits one element takes when packed in a file.
    pub fn packed_bits(self) -> usize {
        use ElemType::*;
        match self {
            U4 | I4 | F4E2M1 => 4,
            U2 | I2 => 2,
            _ => self.size() * 8,
        }
    }

    /// ONNX's name for the type, as in `tensor(float)`.
    pub fn onnx_name(self) -> &'static str {
        use ElemType::*;
        match self {
            Undefined => "undefined",
            F32 => "float",
            U8 => "uint8",
            I8 => "int8",
            U16 => "uint16",
            I16 => "int16",
            I32 => "int32",
            I64 => "int64",
            String => "string",
            Bool => "bool",
            F16 => "float16",
            F64 => "double",
            U32 => "uint32",
            U64 => "uint64",
            Complex64 => "complex64",
            Complex128 => "complex128",
            BF16 => "bfloat16",
            F8E4M3FN => "float8e4m3fn",
            F8E4M3FNUZ => "float8e4m3fnuz",
            F8E5M2 => "float8e5m2",
            F8E5M2FNUZ => "float8e5m2fnuz",
            U4 => "uint4",
            I4 => "int4",
            F4E2M1 => "float4e2m1",
            F8E8M0 => "float8e8m0",
            U2 => "uint2",
            I2 => "int2",
        }
    }

    pub fn is_float(self) -> bool {
        use ElemType::*;
        matches!(
            self,
            F32 | F64 | F16 | BF16 | F8E4M3FN | F8E4M3FNUZ | F8E5M2 | F8E5M2FNUZ | F4E2M1 | F8E8M0
        )
    }
}

impl std::fmt::Display for ElemType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.onnx_name())
    }
}

/// One dimension of a declared shape.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    Known(i64),
    /// A named symbolic dimension (`dim_param`), e.g. `batch`.
    Symbolic(RString),
    Unknown,
}

impl Dim {
    pub fn known(&self) -> Option<i64> {
        match self {
            Dim::Known(v) => Some(*v),
            _ => None,
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Known(v) => write!(f, "{v}"),
            Dim::Symbolic(s) => f.write_str(s),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// The type of a value: what ONNX's `TypeProto` says.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeInfo {
    /// A tensor; `shape` is `None` when even the rank is unknown.
    Tensor {
        elem: ElemType,
        shape: ROption<RVec<Dim>>,
    },
    Sequence(RBox<TypeInfo>),
    Optional(RBox<TypeInfo>),
    Map {
        key: ElemType,
        value: RBox<TypeInfo>,
    },
    /// Nothing is known (yet).
    Unknown,
}

impl TypeInfo {
    pub fn tensor(elem: ElemType, shape: Option<Vec<Dim>>) -> TypeInfo {
        TypeInfo::Tensor {
            elem,
            shape: shape.map(RVec::from).into(),
        }
    }

    /// The tensor element type, if this is a tensor type.
    pub fn elem(&self) -> Option<ElemType> {
        match self {
            TypeInfo::Tensor { elem, .. } => Some(*elem),
            _ => None,
        }
    }

    /// The tensor shape, if this is a tensor of known rank.
    pub fn shape(&self) -> Option<&[Dim]> {
        match self {
            TypeInfo::Tensor { shape, .. } => shape.as_ref().map(|s| s.as_slice()).into_option(),
            _ => None,
        }
    }
}

impl std::fmt::Display for TypeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeInfo::Tensor { elem, shape } => {
                write!(f, "tensor({elem})")?;
                if let Some(s) = shape.as_ref().into_option() {
                    let dims: Vec<String> = s.iter().map(|d| d.to_string()).collect();
                    write!(f, "[{}]", dims.join(","))?;
                }
                Ok(())
            }
            TypeInfo::Sequence(t) => write!(f, "seq({t})"),
            TypeInfo::Optional(t) => write!(f, "optional({t})"),
            TypeInfo::Map { key, value } => write!(f, "map({key},{value})"),
            TypeInfo::Unknown => f.write_str("unknown"),
        }
    }
}
