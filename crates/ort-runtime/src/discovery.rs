//! Finding provider plugins: the builder's directories, then `ORT_PROVIDER_PATH`
//! (colon-separated), then `providers/` beside the running executable. Every
//! `libort_provider_*.so` found is loaded, version-checked and probed.

use std::path::{Path, PathBuf};

use ort_core::host::ProviderLibrary;

/// One library found on the search path.
pub struct Found {
    pub path: PathBuf,
    pub outcome: Outcome,
}

pub enum Outcome {
    /// Loaded and available.
    Ready(ProviderLibrary),
    /// Loaded, but its probe says it cannot run here.
    Unavailable(ProviderLibrary, String),
    /// Refused at load (not a provider, wrong ABI version, bad layout).
    Refused(String),
    /// Another library of the same provider name came earlier on the path.
    Shadowed(String),
}

/// The search directories, in order.
pub fn search_path(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    if let Ok(v) = std::env::var("ORT_PROVIDER_PATH") {
        dirs.extend(v.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push(dir.join("providers"));
    }
    dirs
}

/// Loads every provider library on the search path.
pub fn discover(extra: &[PathBuf]) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut seen_files: Vec<PathBuf> = Vec::new();
    for dir in search_path(extra) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libort_provider_") && n.ends_with(".so"))
            })
            .collect();
        files.sort();
        for path in files {
            let canon = path.canonicalize().unwrap_or(path.clone());
            if seen_files.contains(&canon) {
                continue;
            }
            seen_files.push(canon);
            let outcome = match ProviderLibrary::load(&path) {
                Err(e) => {
                    tracing::warn!("refused provider library {e}");
                    Outcome::Refused(e)
                }
                Ok(lib) => {
                    let name = lib.name().to_string();
                    let earlier = found.iter().find_map(|f| match &f.outcome {
                        Outcome::Ready(l) | Outcome::Unavailable(l, _) if l.name() == name => {
                            Some(f.path.clone())
                        }
                        _ => None,
                    });
                    if let Some(first) = earlier {
                        Outcome::Shadowed(format!(
                            "provider '{name}' already loaded from {}",
                            first.display()
                        ))
                    } else {
                        let a = lib.probe();
                        if a.available {
                            Outcome::Ready(lib)
                        } else {
                            tracing::info!("provider {name} unavailable: {}", a.reason);
                            Outcome::Unavailable(lib, a.reason.to_string())
                        }
                    }
                }
            };
            found.push(Found { path, outcome });
        }
    }
    found
}
