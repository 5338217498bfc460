//! Compiles `shaders/*.wgsl` to SPIR-V with naga (pure Rust: no system shader
//! compiler is needed to build), into `$OUT_DIR/<name>.spv`. WGSL has no
//! includes: a line `// include _name.wgsl` is replaced by that file, and
//! files whose names start with `_` are such shared parts, not shaders.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=shaders");
    for entry in std::fs::read_dir("shaders").expect("the shaders folder") {
        let path = entry.expect("a readable entry").path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('_'))
        {
            continue;
        }
        let src = include(&std::fs::read_to_string(&path).expect("a readable shader"));
        let words = compile(&path, &src);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let name = path.file_stem().expect("a file name").to_string_lossy();
        std::fs::write(Path::new(&out).join(format!("{name}.spv")), bytes)
            .expect("OUT_DIR is writable");
    }
}

/// `src` with each `// include NAME` line replaced by `shaders/NAME`.
fn include(src: &str) -> String {
    src.lines()
        .map(|l| match l.trim().strip_prefix("// include ") {
            Some(name) => std::fs::read_to_string(Path::new("shaders").join(name.trim()))
                .unwrap_or_else(|e| panic!("shaders/{}: {e}", name.trim())),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn compile(path: &Path, src: &str) -> Vec<u32> {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(src)));
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::IMMEDIATES,
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(src)));
    let options = naga::back::spv::Options {
        lang_version: (1, 0),
        ..Default::default()
    };
    naga::back::spv::write_vec(&module, &info, &options, None)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
