//! `cargo xtask <command>`: the project's build, test and demo entry points.
//!
//! - `build [--release]`: the `ort` CLI and every provider cdylib, laid out as
//!   `target/<profile>/ort` + `target/<profile>/providers/libort_provider_*.so`
//!   (and the test plugins in `target/<profile>/test-plugins/`).
//! - `test`: builds (release), runs the unit and integration tests, the shared
//!   models, the contrib-op cases (`tests/contrib`) and the BERT that
//!   onnxruntime's optimizer and quantizers rewrite (`tests/transformers`), all
//!   required, the shared
//!   models as onnxruntime saves them optimized (`tests/ort-saved/make.py`,
//!   when a Python that imports onnxruntime and onnx is found: `ORT_TEST_PYTHON`,
//!   else `python3`; `ORT_REQUIRE_ORT_SAVED=1` makes its absence an error, as
//!   in CI), and the ONNX node suite against the checked-in pass list (a ratchet),
//!   at `--level disable` and `all`, then again with `--providers vulkan,cpu` when
//!   a Vulkan device is there (software ones included; `ORT_REQUIRE_VULKAN=1`
//!   makes its absence an error, as in CI).
//!   Then the same with `--providers cuda,cpu` when a CUDA device is there
//!   (`ORT_REQUIRE_CUDA=1` makes its absence an error).
//! - `gpu-test`: the CUDA suites, required, and `ort bench` of each shared model
//!   with `cuda,cpu` and with `cpu` alone.
//! - `gpu-bundle [DIR]`: what a GPU machine with no Rust toolchain needs, under
//!   64 MiB (default `target/gpu-bundle`): the stripped release binaries, the
//!   pass lists, the node suite and the small models (resnet18 left out for
//!   size), compressed, with `run.sh` (`xtask/gpu/`), which runs the suites with
//!   `cuda,cpu` and `vulkan,cpu`, exports and benchmarks the larger models
//!   against PyTorch eager, and prints one table.
//! - `bench [--threads 1,2]`: a line naming the CPU and its cache sizes, the
//!   GEMM micro-benchmark (GFLOP/s against the measured FMA peak), then each shared model's `ort bench` median, side by side
//!   with onnxruntime through `../shared/bench/compare.py` when a Python that
//!   imports onnxruntime is found (`ORT_BENCH_PYTHON`, else `python3`).
//! - `demo`: builds and runs the built-in demo model.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Provider crates shipped beside the CLI, and test-only plugins.
const PROVIDERS: &[&str] = &[
    "ort-provider-cpu",
    "ort-provider-vulkan",
    "ort-provider-cuda",
];
const TEST_PLUGINS: &[&str] = &["ort-provider-faulty", "ort-provider-abi-mismatch"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|a| a == "--release");
    let result = match args.first().map(String::as_str) {
        Some("build") => build(release).map(|_| ()),
        Some("test") => test(&args[1..]),
        Some("demo") => demo(),
        Some("gpu-test") => gpu_test(),
        Some("gpu-bundle") => gpu_bundle(args.get(1).map(PathBuf::from)),
        Some("bench") => bench(&args[1..]),
        _ => Err(
            "usage: cargo xtask build [--release] | test [--quick] | bench [--threads 1,2] | gpu-test | gpu-bundle [DIR] | demo"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(mut c: Command) -> Result<(), String> {
    eprintln!("$ {c:?}");
    let st = c.status().map_err(|e| format!("cannot run {c:?}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{c:?} failed ({st})"))
    }
}

/// Builds and lays out the binaries; returns `target/<profile>`.
fn build(release: bool) -> Result<PathBuf, String> {
    let mut c = cargo();
    c.arg("build").args(["-p", "ort-cli"]);
    for p in PROVIDERS.iter().chain(TEST_PLUGINS) {
        c.args(["-p", p]);
    }
    if release {
        c.arg("--release");
    }
    run(c)?;
    let out = root()
        .join("target")
        .join(if release { "release" } else { "debug" });
    place(&out, PROVIDERS, "providers")?;
    place(&out, TEST_PLUGINS, "test-plugins")?;
    Ok(out)
}

/// Copies (not links: abi_stable treats hard links as one library) each crate's
/// cdylib into `out/<dir>/`.
fn place(out: &Path, crates: &[&str], dir: &str) -> Result<(), String> {
    let dest = out.join(dir);
    std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
    for c in crates {
        let file = format!("lib{}.so", c.replace('-', "_"));
        let src = out.join(&file);
        let tmp = dest.join(format!(".{file}.tmp"));
        std::fs::copy(&src, &tmp).map_err(|e| format!("{}: {e}", src.display()))?;
        // Rename over the old file so a running process keeps its mapped copy intact.
        std::fs::rename(&tmp, dest.join(&file)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn shared() -> PathBuf {
    root().join("..").join("shared")
}

fn test(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let out = build(true)?;
    let mut c = cargo();
    c.args(["test", "--workspace", "--release"]);
    c.env("ORT_TARGET_DIR", &out);
    run(c)?;
    let ort = out.join("ort");
    let models = shared().join("models");
    let conformance = root().join("tests").join("conformance");
    let saved = ort_saved(&out, &models)?;
    // Each suite runs unoptimized and fully optimized: what passes at `disable`
    // must pass at `all`, so every pass is checked against the same references.
    for level in ["disable", "all"] {
        if models.exists() {
            // bert_small_dynq is run but not required: its reference has 3 int32 values
            // that onnxruntime's u8×s8 kernel saturated (see tests/conformance/README.md).
            let mut c = Command::new(&ort);
            c.arg("test").arg(&models).arg("--level").arg(level);
            c.arg("--require")
                .arg(conformance.join("models-pass-list.txt"));
            run(c)?;
        } else {
            eprintln!(
                "xtask: {} not found; skipping the shared models",
                models.display()
            );
        }
        // onnxruntime's contrib ops (tests/contrib/make.py), a BERT through its
        // transformer optimizer and quantizers (tests/transformers/make.py) and the
        // ai.onnx.ml ops with scikit-learn models (tests/ml/make.py), every case
        // required.
        for suite in ["contrib", "transformers", "ml"] {
            let mut c = Command::new(&ort);
            c.arg("test").arg(root().join("tests").join(suite));
            c.arg("--level").arg(level);
            run(c)?;
        }
        if let Some(saved) = &saved {
            let mut c = Command::new(&ort);
            c.arg("test").arg(saved).arg("--level").arg(level);
            c.arg("--require")
                .arg(conformance.join("ort-saved-pass-list.txt"));
            run(c)?;
        }
        let node = shared().join("onnx-tests").join("node");
        if !quick && node.exists() {
            let mut c = Command::new(&ort);
            c.arg("test").arg(&node).arg("--threads").arg("1");
            c.arg("--level").arg(level);
            c.arg("--require").arg(conformance.join("pass-list.txt"));
            c.arg("--pass-list")
                .arg(out.join(format!("node-pass-list-{level}.txt")));
            run(c)?;
        }
    }
    // Software Vulkan devices (lavapipe, what CI has) are enabled for these runs.
    std::env::set_var("ORT_VULKAN_SOFTWARE", "1");
    device_suites(&out, "vulkan", &models, &conformance, quick, false)?;
    device_suites(&out, "cuda", &models, &conformance, quick, false)
}

/// The shared models saved by onnxruntime at its `extended` and `all` levels,
/// with its outputs as references (`tests/ort-saved/make.py`), in
/// `out/ort-saved`; None when no Python with onnxruntime is at hand.
fn ort_saved(out: &Path, models: &Path) -> Result<Option<PathBuf>, String> {
    let required = std::env::var_os("ORT_REQUIRE_ORT_SAVED").is_some();
    let python = std::env::var("ORT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let importable = Command::new(&python)
        .args(["-c", "import onnxruntime, onnx"])
        .status()
        .is_ok_and(|s| s.success());
    if !importable || !models.exists() {
        let why = format!(
            "{python} cannot import onnxruntime and onnx, or {} is missing: skipping the models saved by onnxruntime",
            models.display()
        );
        if required {
            return Err(why);
        }
        eprintln!("xtask: {why}");
        return Ok(None);
    }
    let dir = out.join("ort-saved");
    let mut c = Command::new(&python);
    c.arg(root().join("tests").join("ort-saved").join("make.py"));
    c.arg(&dir).arg(models);
    run(c)?;
    Ok(Some(dir))
}

/// `cargo xtask gpu-test`: the CUDA suites, required, then `ort bench` of each
/// shared model on CUDA against the CPU provider.
fn gpu_test() -> Result<(), String> {
    let out = build(true)?;
    let models = shared().join("models");
    let conformance = root().join("tests").join("conformance");
    device_suites(&out, "cuda", &models, &conformance, false, true)?;
    let ort = out.join("ort");
    let dirs = std::fs::read_dir(&models).map_err(|e| format!("{}: {e}", models.display()))?;
    let mut dirs: Vec<PathBuf> = dirs
        .flatten()
        .map(|d| d.path())
        .filter(|p| p.join("model.onnx").exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        for providers in ["cuda,cpu", "cpu"] {
            let mut c = Command::new(&ort);
            c.arg("bench").arg(&dir);
            c.args(["--providers", providers, "--level", "all", "--json"]);
            run(c)?;
        }
    }
    Ok(())
}

/// Models left out of the bundle: resnet18 alone is 44 MB compressed, and
/// ResNet-50, exported on the GPU machine, covers its family.
const UNBUNDLED_MODELS: &[&str] = &["resnet18"];

/// `cargo xtask gpu-bundle [DIR]`: see the crate docs.
fn gpu_bundle(dir: Option<PathBuf>) -> Result<(), String> {
    let out = build(true)?;
    let dir = dir.unwrap_or_else(|| root().join("target").join("gpu-bundle"));
    let _ = std::fs::remove_dir_all(&dir);
    let stage = dir.join(".stage");
    let bin = stage.join("bin");
    std::fs::create_dir_all(bin.join("providers")).map_err(|e| e.to_string())?;
    let mut files = vec![(out.join("ort"), bin.join("ort"))];
    for p in PROVIDERS {
        let f = format!("providers/lib{}.so", p.replace('-', "_"));
        files.push((out.join(&f), bin.join(&f)));
    }
    for (from, to) in &files {
        std::fs::copy(from, to).map_err(|e| format!("{}: {e}", from.display()))?;
        let mut c = Command::new("strip");
        c.arg(to);
        run(c)?;
    }
    let tar = |name: &str, base: &Path, what: &[&str], exclude: &[String]| {
        let mut c = Command::new("tar");
        c.arg("-cJf").arg(dir.join(name)).arg("-C").arg(base);
        for e in exclude {
            c.arg(format!("--exclude={e}"));
        }
        c.args(what).env("XZ_OPT", "-6 -T0");
        run(c)
    };
    tar("bin.tar.xz", &stage, &["bin"], &[])?;
    std::fs::remove_dir_all(&stage).map_err(|e| e.to_string())?;
    tar("node.tar.xz", &shared().join("onnx-tests"), &["node"], &[])?;
    let skip: Vec<String> = UNBUNDLED_MODELS
        .iter()
        .map(|m| format!("models/{m}"))
        .collect();
    tar("models.tar.xz", &shared(), &["models"], &skip)?;
    let conf = dir.join("conformance");
    std::fs::create_dir_all(&conf).map_err(|e| e.to_string())?;
    for f in ["pass-list.txt", "models-pass-list.txt"] {
        let from = root().join("tests/conformance").join(f);
        std::fs::copy(&from, conf.join(f)).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    for f in ["run.sh", "gpu_models.py"] {
        let from = root().join("xtask/gpu").join(f);
        std::fs::copy(&from, dir.join(f)).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    // A Vulkan loader for machines without one (the GPU machine may lack it).
    let debs = dir.join("debs");
    std::fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    let mut c = Command::new("apt-get");
    c.args(["download", "libvulkan1"]).current_dir(&debs);
    if run(c).is_err() {
        eprintln!("xtask: no libvulkan1 package to bundle; run.sh uses the machine's loader");
    }
    let mut total = 0u64;
    for e in walk(&dir) {
        total += std::fs::metadata(&e).map(|m| m.len()).unwrap_or(0);
    }
    println!(
        "{}: {:.1} MiB; on the GPU machine: bash run.sh",
        dir.display(),
        total as f64 / (1 << 20) as f64
    );
    if total > 60 << 20 {
        return Err("the bundle is over 60 MiB; the GPU machine takes 64 MiB in all".into());
    }
    Ok(())
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The `ort providers` line of `name` (tab-separated: name, state, reason).
fn provider_line(out: &Path, name: &str) -> Result<String, String> {
    let ort = out.join("ort");
    let listed = Command::new(&ort)
        .arg("providers")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", ort.display()))?;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    Ok(listed
        .lines()
        .find(|l| l.starts_with(&format!("{name}\t")))
        .map_or(format!("{name}: not found"), str::to_owned))
}

/// With a device for provider `name` (vulkan, cuda): the models at `disable`
/// and `all` (where it runs the optimizer's fused ops) and the node suite
/// unoptimized (so it sees each plain op), with `name` first. Whatever it claims
/// must compute what the CPU does, so the same required lists apply. Without a
/// device the reason is printed, unless `required` or `ORT_REQUIRE_<NAME>=1`
/// make it an error.
fn device_suites(
    out: &Path,
    name: &str,
    models: &Path,
    conformance: &Path,
    quick: bool,
    required: bool,
) -> Result<(), String> {
    let ort = out.join("ort");
    let line = provider_line(out, name)?;
    if !line.contains("\tavailable") {
        let var = format!("ORT_REQUIRE_{}", name.to_uppercase());
        if required || std::env::var(&var).as_deref() == Ok("1") {
            return Err(format!("a {name} device is required but {line}"));
        }
        eprintln!("xtask: skipping the {name} suites ({line})");
        return Ok(());
    }
    let providers = format!("{name},cpu");
    if models.exists() {
        for level in ["disable", "all"] {
            let mut c = Command::new(&ort);
            c.arg("test").arg(models);
            c.args(["--providers", &providers, "--level", level]);
            c.arg("--require")
                .arg(conformance.join("models-pass-list.txt"));
            run(c)?;
        }
    }
    let node = shared().join("onnx-tests").join("node");
    if !quick && node.exists() {
        let mut c = Command::new(&ort);
        c.arg("test").arg(&node).arg("--threads").arg("1");
        c.args(["--providers", &providers, "--level", "disable"]);
        c.arg("--require").arg(conformance.join("pass-list.txt"));
        c.arg("--pass-list")
            .arg(out.join(format!("node-pass-list-{name}.txt")));
        run(c)?;
    }
    Ok(())
}

/// The shared models `bench` measures, in the order of the CPU speed issue.
const BENCH_MODELS: &[&str] = &[
    "resnet18",
    "mobilenet_v3_small",
    "squeezenet1_1",
    "bert_small",
    "gpt2_small",
    "mobilenet_v3_small_qdq",
    "bert_small_dynq",
];

fn bench(args: &[String]) -> Result<(), String> {
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "1,2".into());
    let out = build(true)?;
    println!("{}", cpu_line());
    let mut c = cargo();
    c.args(["run", "--release", "--quiet", "-p", "ort-provider-cpu"]);
    c.args(["--example", "gemm_bench"]);
    run(c)?;
    let python = std::env::var("ORT_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_ort = Command::new(&python)
        .args(["-c", "import onnxruntime"])
        .output()
        .is_ok_and(|o| o.status.success());
    let compare = shared().join("bench").join("compare.py");
    if !has_ort {
        eprintln!("xtask: {python} cannot import onnxruntime: ours only (set ORT_BENCH_PYTHON)");
    }
    let dirs: Vec<PathBuf> = BENCH_MODELS
        .iter()
        .map(|m| shared().join("models").join(m))
        .filter(|d| d.exists())
        .collect();
    if has_ort && compare.exists() {
        let mut c = Command::new(&python);
        c.arg(&compare).arg(out.join("ort")).args(&dirs);
        c.args(["--threads", &threads, "--rounds", "3"]);
        return run(c);
    }
    for dir in &dirs {
        for t in threads.split(',') {
            let mut c = Command::new(out.join("ort"));
            c.arg("bench").arg(dir).args(["--threads", t]);
            run(c)?;
        }
    }
    Ok(())
}

/// The CPU the numbers come from: ratios against onnxruntime differ between
/// CPUs of the same ISA (a Zen 5 and a Xeon with AVX-512 differ by 20% on
/// resnet18), so a table without it cannot be compared with another.
fn cpu_line() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim())
        })
        .unwrap_or("unknown");
    let cache = |level: &str| {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{level}/size");
        std::fs::read_to_string(dir).map_or("?".into(), |s| s.trim().to_string())
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "CPU: {model}; {cores} logical cores; per core L1d {}, L2 {}",
        cache("0"),
        cache("2")
    )
}

fn demo() -> Result<(), String> {
    let out = build(true)?;
    let dir = root().join("demo").join("stripes");
    let outputs = out.join("demo-output");
    let mut c = Command::new(out.join("ort"));
    c.arg("run").arg(dir.join("model.onnx"));
    c.arg("--input-dir").arg(dir.join("test_data_set_0"));
    c.arg("--output-dir").arg(&outputs);
    c.arg("--explain");
    run(c)?;
    let mut c = Command::new(out.join("ort"));
    c.arg("test").arg(&dir);
    run(c)?;
    print_scores(&outputs.join("output_0.pb"))
}

/// Reads the demo's class scores (a float TensorProto, raw_data) and prints them.
fn print_scores(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let scores = raw_floats(&bytes).ok_or("the demo output is not a float tensor with raw_data")?;
    let classes = [
        "horizontal stripes",
        "vertical stripes",
        "diagonal stripes",
        "blank",
    ];
    let best = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    println!("\nclass scores:");
    for (c, s) in classes.iter().zip(&scores) {
        println!("  {c:<20} {s:.4}");
    }
    println!(
        "the demo image shows: {}",
        classes.get(best).unwrap_or(&"?")
    );
    Ok(())
}

/// The `raw_data` field (tag 9, length-delimited) of a TensorProto, as f32s.
fn raw_floats(b: &[u8]) -> Option<Vec<f32>> {
    let mut i = 0;
    let varint = |b: &[u8], i: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    while i < b.len() {
        let key = varint(b, &mut i)?;
        match key & 7 {
            0 => {
                varint(b, &mut i)?;
            }
            2 => {
                let len = varint(b, &mut i)? as usize;
                if key >> 3 == 9 {
                    return Some(
                        b.get(i..i + len)?
                            .chunks(4)
                            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                            .collect(),
                    );
                }
                i += len;
            }
            5 => i += 4,
            1 => i += 8,
            _ => return None,
        }
    }
    None
}
