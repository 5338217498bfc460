//! Values in files: `TensorProto`, `SequenceProto`, `OptionalProto` and `MapProto`,
//! chosen by the declared type (as in the ONNX test-data layout).

use prost::Message;

use ort_core::abi::{RBox, ROption, RVec};
use ort_core::{ElemType, RString, Tensor, TypeInfo, Value};

use crate::proto::{
    optional_proto, sequence_proto, MapProto, OptionalProto, SequenceProto, TensorProto,
};
use crate::tensor;

/// Decodes a value file whose declared type is `ty`.
pub fn decode_value(bytes: &[u8], ty: &TypeInfo) -> Result<Value, String> {
    match ty {
        TypeInfo::Sequence(_) => seq_value(
            &SequenceProto::decode(bytes).map_err(|e| format!("not a SequenceProto: {e}"))?,
        ),
        TypeInfo::Optional(_) => opt_value(
            &OptionalProto::decode(bytes).map_err(|e| format!("not an OptionalProto: {e}"))?,
        ),
        TypeInfo::Map { .. } => {
            map_value(&MapProto::decode(bytes).map_err(|e| format!("not a MapProto: {e}"))?)
        }
        _ => Ok(Value::Tensor(tensor::decode(
            &TensorProto::decode(bytes).map_err(|e| format!("not a TensorProto: {e}"))?,
            None,
        )?)),
    }
}

fn seq_value(s: &SequenceProto) -> Result<Value, String> {
    let mut items = RVec::new();
    for t in &s.tensor_values {
        items.push(Value::Tensor(tensor::decode(t, None)?));
    }
    for q in &s.sequence_values {
        items.push(seq_value(q)?);
    }
    for m in &s.map_values {
        items.push(map_value(m)?);
    }
    for o in &s.optional_values {
        items.push(opt_value(o)?);
    }
    let elem = s
        .tensor_values
        .first()
        .and_then(|t| ElemType::from_onnx(t.data_type))
        .unwrap_or(ElemType::Undefined);
    Ok(Value::Sequence { elem, items })
}

fn opt_value(o: &OptionalProto) -> Result<Value, String> {
    let inner = if let Some(t) = &o.tensor_value {
        Some(Value::Tensor(tensor::decode(t, None)?))
    } else if let Some(s) = &o.sequence_value {
        Some(seq_value(s)?)
    } else if let Some(m) = &o.map_value {
        Some(map_value(m)?)
    } else if let Some(p) = &o.optional_value {
        Some(opt_value(p)?)
    } else {
        None
    };
    Ok(Value::Optional(inner.map(RBox::new).into()))
}

fn map_value(m: &MapProto) -> Result<Value, String> {
    let key = ElemType::from_onnx(m.key_type).ok_or("unknown map key type")?;
    let keys = if key == ElemType::String {
        let v: Vec<RString> = m
            .string_keys
            .iter()
            .map(|s| RString::from(String::from_utf8_lossy(s).into_owned()))
            .collect();
        Tensor::from_vec(&[v.len() as i64], v)
    } else {
        Tensor::from_vec(&[m.keys.len() as i64], m.keys.clone())
    }
    .map_err(|e| e.to_string())?;
    let values = seq_value(m.values.as_ref().ok_or("map without values")?)?;
    Ok(Value::Map {
        keys,
        values: RBox::new(values),
    })
}

/// Encodes a value for a file; `ty` is the declared type (for empty containers).
pub fn encode_value(v: &Value, name: &str, ty: &TypeInfo) -> Result<Vec<u8>, String> {
    Ok(match ty {
        TypeInfo::Sequence(_) => seq_proto(v, name, ty)?.encode_to_vec(),
        TypeInfo::Optional(_) => opt_proto(v, name, ty)?.encode_to_vec(),
        TypeInfo::Map { .. } => map_proto(v, name)?.encode_to_vec(),
        _ => match v {
            Value::Tensor(t) => tensor::encode(t, name)?.encode_to_vec(),
            Value::Sequence { .. } => seq_proto(v, name, &TypeInfo::Unknown)?.encode_to_vec(),
            Value::Optional(_) => opt_proto(v, name, &TypeInfo::Unknown)?.encode_to_vec(),
            Value::Map { .. } => map_proto(v, name)?.encode_to_vec(),
        },
    })
}

fn inner(ty: &TypeInfo) -> &TypeInfo {
    match ty {
        TypeInfo::Sequence(t) | TypeInfo::Optional(t) => t,
        t => t,
    }
}

fn seq_proto(v: &Value, name: &str, ty: &TypeInfo) -> Result<SequenceProto, String> {
    let Value::Sequence { items, .. } = v else {
        return Err(format!("expected a sequence, got a {}", v.kind_name()));
    };
    let mut p = SequenceProto {
        name: name.to_string(),
        ..Default::default()
    };
    let elem_ty = inner(ty);
    p.elem_type = match elem_ty {
        TypeInfo::Sequence(_) => sequence_proto::DataType::Sequence as i32,
        TypeInfo::Map { .. } => sequence_proto::DataType::Map as i32,
        TypeInfo::Optional(_) => sequence_proto::DataType::Optional as i32,
        _ => sequence_proto::DataType::Tensor as i32,
    };
    for it in items.iter() {
        match it {
            Value::Tensor(t) => p.tensor_values.push(tensor::encode(t, "")?),
            Value::Sequence { .. } => p.sequence_values.push(seq_proto(it, "", elem_ty)?),
            Value::Map { .. } => p.map_values.push(map_proto(it, "")?),
            Value::Optional(_) => p.optional_values.push(opt_proto(it, "", elem_ty)?),
        }
    }
    Ok(p)
}

fn opt_proto(v: &Value, name: &str, ty: &TypeInfo) -> Result<OptionalProto, String> {
    let mut p = OptionalProto {
        name: name.to_string(),
        ..Default::default()
    };
    let elem_ty = inner(ty);
    let (inner_v, is_opt) = match v {
        Value::Optional(o) => (o.as_ref().into_option().map(|b| &**b), true),
        other => (Some(other), false),
    };
    let _ = is_opt;
    p.elem_type = match (inner_v, elem_ty) {
        (Some(Value::Sequence { .. }), _) | (None, TypeInfo::Sequence(_)) => {
            optional_proto::DataType::Sequence as i32
        }
        (Some(Value::Map { .. }), _) | (None, TypeInfo::Map { .. }) => {
            optional_proto::DataType::Map as i32
        }
        (Some(Value::Optional(_)), _) | (None, TypeInfo::Optional(_)) => {
            optional_proto::DataType::Optional as i32
        }
        _ => optional_proto::DataType::Tensor as i32,
    };
    match inner_v {
        None => {}
        Some(Value::Tensor(t)) => p.tensor_value = Some(tensor::encode(t, "")?),
        Some(s @ Value::Sequence { .. }) => p.sequence_value = Some(seq_proto(s, "", elem_ty)?),
        Some(m @ Value::Map { .. }) => p.map_value = Some(map_proto(m, "")?),
        Some(o @ Value::Optional(_)) => {
            p.optional_value = Some(Box::new(opt_proto(o, "", elem_ty)?))
        }
    }
    Ok(p)
}

fn map_proto(v: &Value, name: &str) -> Result<MapProto, String> {
    let Value::Map { keys, values } = v else {
        return Err(format!("expected a map, got a {}", v.kind_name()));
    };
    let mut p = MapProto {
        name: name.to_string(),
        key_type: keys.elem() as i32,
        ..Default::default()
    };
    if keys.elem() == ElemType::String {
        p.string_keys = keys
            .as_slice::<RString>()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
    } else {
        p.keys = keys.to_i64_vec().map_err(|e| e.to_string())?;
    }
    p.values = Some(seq_proto(values, "", &TypeInfo::Unknown)?);
    Ok(p)
}

/// An empty optional of nothing, for absent optional values.
pub fn empty_optional() -> Value {
    Value::Optional(ROption::RNone)
}
