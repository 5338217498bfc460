//! Finding the CUDA libraries wherever they are installed, with no symlinks
//! and no environment variables needed.
//!
//! cudarc opens each library by bare name (`libcublas.so.13`, `.12`, …) the
//! first time it is called. The dynamic loader answers such a name with a
//! library already in the process whose soname matches, so each library found
//! here is opened by its full path first ([`preload`]), and cudarc's later
//! open by name gets that one. Folders are searched in this order:
//!
//! 1. the provider option `lib_dir`, then `ORT_CUDA_LIB_DIR`;
//! 2. `CUDA_PATH`, then `CUDA_HOME` (their `lib64`, `lib` and
//!    `targets/<arch>-linux/lib`);
//! 3. the loader path: `LD_LIBRARY_PATH`, then the loader's own cache and
//!    system folders (asked by soname);
//! 4. `/usr/local/cuda`, then `/usr/local/cuda-*` newest first;
//! 5. the nvidia pip wheels (`site-packages/nvidia/*/lib`) of the running
//!    Python (`VIRTUAL_ENV`, `CONDA_PREFIX`, the `python3` on `PATH`, this
//!    executable's prefix) and of any `site-packages` beside them.
//!
//! In each folder the sonames of CUDA 13, then 12, then the unversioned name
//! are accepted, but never a major version newer than the driver supports
//! (NVRTC's PTX and cuBLAS need a driver at least as new as themselves).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One library cudarc opens, and the libraries beside it that it loads by
/// soname (which must be opened first, from the same folder).
#[derive(Clone, Copy, Debug)]
pub struct Lib {
    /// `cublas` for `libcublas.so.*`.
    pub name: &'static str,
    /// Majors to accept, newest first (sonames `.13`, `.12`, …).
    pub majors: &'static [u32],
    /// Prefixes of companion files in the same folder, opened first.
    pub companions: &'static [&'static str],
    /// What the library is, for messages.
    pub role: &'static str,
}

pub const DRIVER: Lib = Lib {
    name: "cuda",
    majors: &[1],
    companions: &[],
    role: "the NVIDIA driver (libcuda)",
};
pub const NVRTC: Lib = Lib {
    name: "nvrtc",
    majors: &[13, 12],
    companions: &["libnvrtc-builtins.so"],
    role: "the CUDA runtime compiler (libnvrtc)",
};
pub const CUBLAS: Lib = Lib {
    name: "cublas",
    majors: &[13, 12],
    companions: &["libcublasLt.so"],
    role: "cuBLAS (libcublas)",
};

/// cuDNN 9 loads its parts (`libcudnn_graph`, `_cnn`, `_engines_*`, …) by
/// soname, so they are opened first from the same folder.
pub const CUDNN: Lib = Lib {
    name: "cudnn",
    majors: &[9],
    companions: &["libcudnn_"],
    role: "cuDNN (libcudnn)",
};

/// Where a folder came from, for the "looked in" list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    pub path: PathBuf,
    pub from: &'static str,
}

/// The environment the search reads; a trait so tests can fake it.
pub trait Env {
    fn var(&self, key: &str) -> Option<OsString>;
    /// Sub-folders of `dir` whose names start with `prefix`, sorted by name.
    fn children(&self, dir: &Path, prefix: &str) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        v
    }
    /// The running executable.
    fn exe(&self) -> Option<PathBuf> {
        std::env::current_exe().ok()
    }
}

pub struct Process;

impl Env for Process {
    fn var(&self, key: &str) -> Option<OsString> {
        std::env::var_os(key).filter(|v| !v.is_empty())
    }
}

/// The folders to look in, in order, without repeats.
pub fn folders(lib_dir: Option<&Path>, env: &dyn Env) -> Vec<Folder> {
    let mut out: Vec<Folder> = Vec::new();
    let mut add = |path: PathBuf, from: &'static str| {
        if !out.iter().any(|f| f.path == path) {
            out.push(Folder { path, from });
        }
    };
    if let Some(d) = lib_dir {
        add(d.to_path_buf(), "provider option lib_dir");
    }
    if let Some(d) = env.var("ORT_CUDA_LIB_DIR") {
        add(d.into(), "ORT_CUDA_LIB_DIR");
    }
    let arch = std::env::consts::ARCH;
    for key in ["CUDA_PATH", "CUDA_HOME"] {
        if let Some(root) = env.var(key) {
            let root = PathBuf::from(root);
            for sub in ["lib64", "lib", &format!("targets/{arch}-linux/lib")] {
                add(root.join(sub), key);
            }
        }
    }
    if let Some(p) = env.var("LD_LIBRARY_PATH") {
        for d in std::env::split_paths(&p) {
            if !d.as_os_str().is_empty() {
                add(d, "LD_LIBRARY_PATH");
            }
        }
    }
    // The driver's usual homes outside the loader's cache (containers, WSL).
    for d in ["/usr/local/nvidia/lib64", "/usr/lib/wsl/lib"] {
        add(d.into(), "driver folder");
    }
    let local = Path::new("/usr/local");
    let mut cudas = env.children(local, "cuda-");
    cudas.reverse(); // newest version first
    for root in std::iter::once(local.join("cuda")).chain(cudas) {
        for sub in ["lib64", &format!("targets/{arch}-linux/lib")] {
            add(root.join(sub), "/usr/local/cuda*");
        }
    }
    for site in site_packages(env) {
        for pkg in env.children(&site.join("nvidia"), "") {
            for sub in ["lib", "lib64"] {
                add(pkg.join(sub), "nvidia pip wheels");
            }
        }
    }
    out
}

/// The `site-packages` (and `dist-packages`) folders of the Pythons this
/// process may be running under or beside.
fn site_packages(env: &dyn Env) -> Vec<PathBuf> {
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for key in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(p) = env.var(key) {
            prefixes.push(p.into());
        }
    }
    // A `python3` on PATH lives in `<prefix>/bin`.
    if let Some(path) = env.var("PATH") {
        for d in std::env::split_paths(&path) {
            if d.join("python3").exists() || d.join("python").exists() {
                if let Some(prefix) = d.parent() {
                    prefixes.push(prefix.to_path_buf());
                }
            }
        }
    }
    // This executable, when it is Python or sits in a venv's bin.
    if let Some(exe) = env.exe() {
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            prefixes.push(prefix.to_path_buf());
        }
    }
    if let Some(home) = env.var("HOME") {
        prefixes.push(PathBuf::from(home).join(".local"));
    }
    prefixes.extend(["/usr/local".into(), "/usr".into()]);
    let mut out: Vec<PathBuf> = Vec::new();
    for prefix in prefixes {
        for lib in ["lib", "lib64"] {
            for py in env.children(&prefix.join(lib), "python3") {
                for s in ["site-packages", "dist-packages"] {
                    let d = py.join(s);
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
            }
        }
    }
    out
}

/// A library file found in a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub major: Option<u32>,
}

/// `lib`'s file in `dir`: the newest accepted major not above `max_major`,
/// else the unversioned name (a symlink to some version, or the only file).
pub fn find_in(dir: &Path, lib: &Lib, max_major: Option<u32>) -> Option<Found> {
    for &major in lib.majors {
        if max_major.is_some_and(|m| major > m) && lib.name != "cuda" {
            continue;
        }
        let p = dir.join(format!("lib{}.so.{major}", lib.name));
        if p.is_file() {
            return Some(Found {
                path: p,
                major: Some(major),
            });
        }
    }
    let p = dir.join(format!("lib{}.so", lib.name));
    p.is_file().then_some(Found {
        path: p,
        major: None,
    })
}

/// Searches `folders` for `lib`; on failure, the message lists them.
pub fn search(folders: &[Folder], lib: &Lib, max_major: Option<u32>) -> Result<Found, String> {
    folders
        .iter()
        .find_map(|f| find_in(&f.path, lib, max_major))
        .ok_or_else(|| not_found(folders, lib, max_major))
}

fn not_found(folders: &[Folder], lib: &Lib, max_major: Option<u32>) -> String {
    let majors: Vec<String> = lib
        .majors
        .iter()
        .filter(|&&m| max_major.is_none_or(|x| m <= x) || lib.name == "cuda")
        .map(|m| format!(".{m}"))
        .collect();
    let mut looked: Vec<String> = Vec::new();
    for f in folders {
        let s = format!("{} ({})", f.path.display(), f.from);
        if !looked.contains(&s) {
            looked.push(s);
        }
    }
    format!(
        "{} not found: looked for lib{}.so{{{}}} in the loader's path and in {}; \
         name its folder with the provider option lib_dir or ORT_CUDA_LIB_DIR",
        lib.role,
        lib.name,
        majors.join(","),
        looked.join(", ")
    )
}

/// The libraries opened so far: kept for the life of the process, as cudarc
/// keeps its handles to them.
static OPENED: Mutex<Vec<libloading::Library>> = Mutex::new(Vec::new());

/// Opens `path` (a full path) and keeps it open.
fn open(path: &Path) -> Result<(), String> {
    // SAFETY: loading a CUDA library runs only its initializers, which have no
    // preconditions; the handle is kept until the process ends.
    let l = unsafe { libloading::Library::new(path) }
        .map_err(|e| format!("{}: {e}", path.display()))?;
    OPENED.lock().unwrap_or_else(|e| e.into_inner()).push(l);
    Ok(())
}

/// Whether the loader itself finds a soname of `lib` (its cache and system
/// folders), as cudarc would; opens it if so.
fn loader_has(lib: &Lib, max_major: Option<u32>) -> bool {
    for &major in lib.majors {
        if max_major.is_some_and(|m| major > m) && lib.name != "cuda" {
            continue;
        }
        let name = format!("lib{}.so.{major}", lib.name);
        // SAFETY: as in `open`.
        if let Ok(l) = unsafe { libloading::Library::new(&name) } {
            OPENED.lock().unwrap_or_else(|e| e.into_inner()).push(l);
            return true;
        }
    }
    false
}

/// Finds `lib` and opens it (its companions first) by full path, so cudarc's
/// open by name finds it in the process. Returns where it came from.
pub fn preload(folders: &[Folder], lib: &Lib, max_major: Option<u32>) -> Result<String, String> {
    let found = match search(folders, lib, max_major) {
        Ok(f) => f,
        Err(_) if loader_has(lib, max_major) => {
            return Ok(format!("lib{} from the loader's path", lib.name));
        }
        Err(e) => return Err(e),
    };
    let dir = found.path.parent().unwrap_or(Path::new("/"));
    for prefix in lib.companions {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        // The companion of the same major as the library, when versioned.
        if let Some(m) = found.major {
            let tagged: Vec<PathBuf> = files
                .iter()
                .filter(|p| p.to_string_lossy().contains(&format!(".so.{m}")))
                .cloned()
                .collect();
            if !tagged.is_empty() {
                files = tagged;
            }
        }
        // Companions may need each other: open what opens, and retry the rest
        // while that makes progress. One that never opens is reported by the
        // library that needs it, when it does.
        while !files.is_empty() {
            let before = files.len();
            files.retain(|f| open(f).is_err());
            if files.len() == before {
                break;
            }
        }
    }
    open(&found.path)?;
    Ok(found.path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fake(HashMap<&'static str, OsString>);
    impl Env for Fake {
        fn var(&self, key: &str) -> Option<OsString> {
            self.0.get(key).cloned()
        }
        fn exe(&self) -> Option<PathBuf> {
            None
        }
    }

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ort-cuda-libs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn folders_follow_the_documented_order() {
        let root = tmp("order");
        let venv = root.join("venv");
        touch(&venv.join("bin/python3"));
        let wheel = venv.join("lib/python3.12/site-packages/nvidia/cu13/lib");
        std::fs::create_dir_all(&wheel).unwrap();
        let env = Fake(HashMap::from([
            ("ORT_CUDA_LIB_DIR", root.join("env").into_os_string()),
            ("CUDA_HOME", root.join("home").into_os_string()),
            ("LD_LIBRARY_PATH", root.join("ld").into_os_string()),
            ("PATH", venv.join("bin").into_os_string()),
        ]));
        let f = folders(Some(&root.join("opt")), &env);
        let pos = |p: &Path| f.iter().position(|x| x.path == p).unwrap_or(usize::MAX);
        let order = [
            pos(&root.join("opt")),
            pos(&root.join("env")),
            pos(&root.join("home/lib64")),
            pos(&root.join("ld")),
            pos(Path::new("/usr/local/cuda/lib64")),
            pos(&wheel),
        ];
        assert!(
            order.iter().all(|&p| p != usize::MAX),
            "{order:?} in {f:#?}"
        );
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in {f:#?}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn sonames_of_13_then_12_then_unversioned_within_the_driver() {
        let root = tmp("sonames");
        let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
        touch(&a.join("libcublas.so.12"));
        touch(&a.join("libcublas.so.13"));
        touch(&b.join("libnvrtc.so"));
        touch(&c.join("libnvrtc.so.13"));
        let dirs: Vec<Folder> = [&a, &b, &c]
            .iter()
            .map(|p| Folder {
                path: p.to_path_buf(),
                from: "test",
            })
            .collect();
        let f = search(&dirs, &CUBLAS, Some(13)).unwrap();
        assert_eq!(f.path, a.join("libcublas.so.13"));
        // A CUDA 12 driver cannot use CUDA 13's cuBLAS.
        let f = search(&dirs, &CUBLAS, Some(12)).unwrap();
        assert_eq!(f.path, a.join("libcublas.so.12"));
        // The earlier folder wins, even with only the unversioned name.
        let f = search(&dirs, &NVRTC, Some(13)).unwrap();
        assert_eq!(f.path, b.join("libnvrtc.so"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_failed_search_lists_where_it_looked() {
        let dirs = vec![
            Folder {
                path: "/nowhere/a".into(),
                from: "CUDA_PATH",
            },
            Folder {
                path: "/nowhere/b".into(),
                from: "nvidia pip wheels",
            },
        ];
        let e = search(&dirs, &CUBLAS, Some(13)).unwrap_err();
        for s in [
            "cuBLAS",
            "libcublas.so{.13,.12}",
            "/nowhere/a (CUDA_PATH)",
            "/nowhere/b (nvidia pip wheels)",
            "lib_dir",
        ] {
            assert!(e.contains(s), "{s:?} not in {e}");
        }
        let e = search(&dirs, &CUBLAS, Some(12)).unwrap_err();
        assert!(e.contains("libcublas.so{.12}"), "{e}");
    }
}
