//! `TensorProto` ↔ [`Tensor`]: raw_data, typed fields, external data files,
//! and the packing of 4- and 2-bit types (unpacked, one element per byte, in memory).

use std::path::Path;

use ort_core::{ElemType, RString, Tensor};

use crate::proto::TensorProto;

/// Why a tensor could not be decoded.
pub type TensorError = String;

/// Decodes a tensor. `base_dir` is where external data files are looked up.
pub fn decode(t: &TensorProto, base_dir: Option<&Path>) -> Result<Tensor, TensorError> {
    let elem = ElemType::from_onnx(t.data_type)
        .filter(|e| *e != ElemType::Undefined)
        .ok_or_else(|| format!("unsupported element type code {}", t.data_type))?;
    if t.dims.iter().any(|&d| d < 0) {
        return Err(format!("negative dimension in {:?}", t.dims));
    }
    let n = t
        .dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d as usize))
        .ok_or_else(|| format!("shape {:?} is too large", t.dims))?;

    if elem == ElemType::String {
        if t.string_data.len() != n {
            return Err(format!(
                "shape {:?} holds {n} strings, string_data has {}",
                t.dims,
                t.string_data.len()
            ));
        }
        let data: Vec<RString> = t
            .string_data
            .iter()
            .map(|b| RString::from(String::from_utf8_lossy(b).into_owned()))
            .collect();
        return Tensor::from_vec(&t.dims, data).map_err(|e| e.to_string());
    }

    let external;
    let raw: Option<&[u8]> = if t.data_location == 1 {
        external = read_external(t, base_dir)?;
        Some(&external)
    } else if !t.raw_data.is_empty() || (n == 0) {
        Some(&t.raw_data)
    } else {
        None
    };
    let bytes = match raw {
        Some(raw) => unpack_raw(elem, raw, n)?,
        None => from_typed(t, elem, n)?,
    };
    if bytes.len() != n * elem.size() {
        return Err(format!(
            "shape {:?} of {elem} needs {} bytes of data, the tensor holds {}",
            t.dims,
            n * elem.size(),
            bytes.len()
        ));
    }
    let bytes = if elem == ElemType::Bool {
        bytes.into_iter().map(|b| (b != 0) as u8).collect()
    } else {
        bytes
    };
    Tensor::from_bytes(elem, &t.dims, bytes).map_err(|e| e.to_string())
}

fn read_external(t: &TensorProto, base_dir: Option<&Path>) -> Result<Vec<u8>, TensorError> {
    let get = |k: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == k)
            .map(|e| e.value.clone())
    };
    let loc = get("location").ok_or("external data without a location")?;
    if Path::new(&loc).is_absolute() || loc.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!(
            "external data location '{loc}' must be a relative path inside the model's folder"
        ));
    }
    let path = base_dir.unwrap_or(Path::new(".")).join(&loc);
    let data = std::fs::read(&path)
        .map_err(|e| format!("cannot read external data {}: {e}", path.display()))?;
    let offset: usize = get("offset")
        .map(|v| v.parse().unwrap_or(usize::MAX))
        .unwrap_or(0);
    let length: Option<usize> = get("length").map(|v| v.parse().unwrap_or(usize::MAX));
    let end = match length {
        Some(l) => offset.checked_add(l),
        None => Some(data.len()),
    };
    match end {
        Some(end) if offset <= end && end <= data.len() => Ok(data[offset..end].to_vec()),
        _ => Err(format!("external data range is outside {}", path.display())),
    }
}

/// Raw little-endian bytes → in-memory bytes (unpacking sub-byte types).
fn unpack_raw(elem: ElemType, raw: &[u8], n: usize) -> Result<Vec<u8>, TensorError> {
    let bits = elem.packed_bits();
    if bits >= 8 {
        return Ok(raw.to_vec());
    }
    let need = (n * bits).div_ceil(8);
    if raw.len() != need {
        return Err(format!(
            "{n} elements of {elem} need {need} packed bytes, raw_data has {}",
            raw.len()
        ));
    }
    Ok(unpack_bits(elem, raw.iter().map(|&b| b as u32), n))
}

/// Splits packed words (`bits` wide elements, LSB first) into one byte per element,
/// sign-extending the signed types.
fn unpack_bits(elem: ElemType, words: impl Iterator<Item = u32>, n: usize) -> Vec<u8> {
    let bits = elem.packed_bits();
    let per = 8 / bits;
    let mask = (1u32 << bits) - 1;
    let signed = matches!(elem, ElemType::I4 | ElemType::I2);
    let mut out = Vec::with_capacity(n);
    'outer: for w in words {
        for k in 0..per {
            if out.len() == n {
                break 'outer;
            }
            let v = (w >> (k * bits)) & mask;
            let v = if signed && v & (1 << (bits - 1)) != 0 {
                (v | !mask) as u8
            } else {
                v as u8
            };
            out.push(v);
        }
    }
    out
}

/// Typed fields (`float_data`, `int32_data`, ...) → in-memory bytes.
fn from_typed(t: &TensorProto, elem: ElemType, n: usize) -> Result<Vec<u8>, TensorError> {
    use ElemType::*;
    let mut out = Vec::with_capacity(n * elem.size());
    match elem {
        F32 | Complex64 => t
            .float_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        F64 | Complex128 => t
            .double_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        I64 => t
            .int64_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        U32 => t
            .uint64_data
            .iter()
            .for_each(|&v| out.extend_from_slice(&(v as u32).to_le_bytes())),
        U64 => t
            .uint64_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        I32 => t
            .int32_data
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        I16 | U16 | F16 | BF16 => t
            .int32_data
            .iter()
            .for_each(|&v| out.extend_from_slice(&(v as u16).to_le_bytes())),
        I8 | U8 | Bool | F8E4M3FN | F8E4M3FNUZ | F8E5M2 | F8E5M2FNUZ | F8E8M0 => {
            t.int32_data.iter().for_each(|&v| out.push(v as u8))
        }
        U4 | I4 | F4E2M1 | U2 | I2 => {
            let per = 8 / elem.packed_bits();
            if t.int32_data.len() != n.div_ceil(per) {
                return Err(format!(
                    "{n} elements of {elem} need {} packed int32_data entries, found {}",
                    n.div_ceil(per),
                    t.int32_data.len()
                ));
            }
            return Ok(unpack_bits(elem, t.int32_data.iter().map(|&v| v as u32), n));
        }
        String | Undefined => unreachable!("handled by the caller"),
    }
    Ok(out)
}

/// Encodes a host tensor (raw_data, packing sub-byte types).
pub fn encode(t: &Tensor, name: &str) -> Result<TensorProto, TensorError> {
    let mut p = TensorProto {
        name: name.to_string(),
        dims: t.shape().to_vec(),
        data_type: t.elem() as i32,
        ..Default::default()
    };
    if t.elem() == ElemType::String {
        p.string_data = t
            .as_slice::<RString>()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        return Ok(p);
    }
    let bytes = t.bytes().ok_or("tensor lives in device memory")?;
    let bits = t.elem().packed_bits();
    p.raw_data = if bits >= 8 {
        bytes.to_vec()
    } else {
        let per = 8 / bits;
        let mask = (1u8 << bits) - 1;
        bytes
            .chunks(per)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u8, |acc, (k, &v)| acc | ((v & mask) << (k * bits)))
            })
            .collect()
    };
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int4_round_trip() {
        let t = Tensor::from_bytes(ElemType::I4, &[3], vec![0xF9, 7, 0xF8]).unwrap(); // -7, 7, -8
        let p = encode(&t, "x").unwrap();
        assert_eq!(p.raw_data, vec![0x79, 0x08]);
        let back = decode(&p, None).unwrap();
        assert_eq!(back.bytes().unwrap(), &[0xF9, 7, 0xF8]);
    }

    #[test]
    fn short_data_is_an_error() {
        let p = TensorProto {
            dims: vec![2, 3],
            data_type: 1,
            float_data: vec![1.0; 5],
            ..Default::default()
        };
        let e = decode(&p, None).unwrap_err();
        assert!(e.contains("needs 24 bytes"), "{e}");
    }
}
