//! `ort test PATH... [--providers a,b] [--level ...] [--threads N]`: one line per
//! case, then `N passed, N failed`.

use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use ort_core::Value;

use crate::compare::{values, Tolerance};
use crate::data::{read_inputs, read_value};
use crate::SessionArgs;

#[derive(Args)]
pub struct TestArgs {
    /// Case folders (model.onnx + test_data_set_N/) or folders of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub session: SessionArgs,
    /// Write the names of passing cases to this file (one per line).
    #[arg(long)]
    pub pass_list: Option<PathBuf>,
    /// Fail unless every case named in this file passes (a ratchet).
    #[arg(long)]
    pub require: Option<PathBuf>,
}

pub fn main(a: TestArgs) -> Result<i32, String> {
    let mut cases: Vec<PathBuf> = Vec::new();
    for p in &a.paths {
        if p.join("model.onnx").exists() {
            cases.push(p.clone());
        } else {
            let mut sub: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|d| d.join("model.onnx").exists())
                .collect();
            sub.sort();
            if sub.is_empty() {
                return Err(format!(
                    "{}: no test cases (folders with model.onnx) found",
                    p.display()
                ));
            }
            cases.extend(sub);
        }
    }
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let b = ProgressBar::new(cases.len() as u64);
        b.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").unwrap());
        Some(b)
    } else {
        None
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut passing: Vec<String> = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result = std::panic::catch_unwind(|| run_case(case, &a.session))
            .unwrap_or_else(|_| Err("the runner panicked".into()));
        let line = match &result {
            Ok(()) => {
                passed += 1;
                passing.push(name.clone());
                format!("ok    {name}")
            }
            Err(e) => {
                failed += 1;
                format!("FAIL  {name}: {}", e.lines().next().unwrap_or(""))
            }
        };
        match &bar {
            Some(b) => {
                b.println(line);
                b.inc(1);
            }
            None => println!("{line}"),
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(p) = &a.pass_list {
        std::fs::write(p, passing.join("\n") + "\n")
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut code = if failed > 0 && a.require.is_none() {
        1
    } else {
        0
    };
    if let Some(req) = &a.require {
        let text = std::fs::read_to_string(req).map_err(|e| format!("{}: {e}", req.display()))?;
        let missing: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|l| !passing.iter().any(|p| p == l))
            .collect();
        if !missing.is_empty() {
            println!(
                "{} required cases did not pass: {}",
                missing.len(),
                missing.join(", ")
            );
            code = 1;
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(code)
}

fn tolerance(case: &Path) -> Tolerance {
    let mut t = Tolerance {
        rtol: 1e-3,
        atol: 1e-5,
    };
    if let Ok(text) = std::fs::read_to_string(case.join("meta.json")) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if let Some(r) = v.get("suggested_rtol").and_then(|x| x.as_f64()) {
                t.rtol = r;
            }
            if let Some(a) = v.get("suggested_atol").and_then(|x| x.as_f64()) {
                t.atol = a;
            }
        }
    }
    t
}

fn run_case(case: &Path, args: &SessionArgs) -> Result<(), String> {
    let session = args
        .builder()?
        .load(case.join("model.onnx"))
        .map_err(|e| e.to_string())?;
    let tol = tolerance(case);
    let mut sets: Vec<PathBuf> = std::fs::read_dir(case)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("test_data_set_"))
        })
        .collect();
    sets.sort();
    if sets.is_empty() {
        return Err("no test_data_set_N folders".into());
    }
    for set in sets {
        let set_name = set.file_name().unwrap().to_string_lossy().into_owned();
        let inputs = read_inputs(&set, session.inputs())?;
        let outputs = session
            .run_positional(inputs)
            .map_err(|e| format!("{set_name}: {e}"))?;
        for (k, (d, got)) in session.outputs().iter().zip(&outputs).enumerate() {
            let p = set.join(format!("output_{k}.pb"));
            if !p.exists() {
                continue;
            }
            let want: Value = read_value(&p, &d.ty)?;
            values(got, &want, tol).map_err(|e| format!("{set_name}: output '{}': {e}", d.name))?;
        }
    }
    Ok(())
}
