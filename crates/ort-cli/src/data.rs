//! Test-data folders: `input_K.pb` for the K-th runtime input (missing = left out),
//! `output_K.pb` for the K-th output, encoded by the declared type.

use std::path::Path;

use ort_core::{TypeInfo, Value};
use ort_runtime::model::{decode_value, encode_value};
use ort_runtime::ValueDecl;

/// Reads the inputs a session expects from `dir`.
pub fn read_inputs(dir: &Path, decls: &[ValueDecl]) -> Result<Vec<Option<Value>>, String> {
    decls
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let p = dir.join(format!("input_{k}.pb"));
            if !p.exists() {
                return Ok(None);
            }
            read_value(&p, &d.ty).map(Some)
        })
        .collect()
}

pub fn read_value(p: &Path, ty: &TypeInfo) -> Result<Value, String> {
    let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
    decode_value(&bytes, ty).map_err(|e| format!("{}: {e}", p.display()))
}

/// Writes outputs as `output_K.pb`.
pub fn write_outputs(dir: &Path, decls: &[ValueDecl], values: &[Value]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (k, (d, v)) in decls.iter().zip(values).enumerate() {
        let p = dir.join(format!("output_{k}.pb"));
        let bytes =
            encode_value(v, &d.name, &d.ty).map_err(|e| format!("output '{}': {e}", d.name))?;
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}
