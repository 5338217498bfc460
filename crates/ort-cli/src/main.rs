//! `ort`: run, test and benchmark ONNX models over plugin execution providers.
//!
//! The flags and file layouts of `providers`, `run`, `test`, `bench`, `optimize` and `generate` are a
//! contract relied on by tools outside this repository: extend, never change.

mod bench;
mod compare;
mod data;
mod generate;
mod optimize;
mod providers;
mod run;
mod test;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ort",
    version,
    about = "ONNX inference over plugin execution providers"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the provider libraries found: name, priority, availability, path.
    Providers(providers::ProvidersArgs),
    /// Run a model on input files and write its outputs.
    Run(run::RunArgs),
    /// Run test cases (model.onnx + test_data_set_N/) and compare with their outputs.
    Test(test::TestArgs),
    /// Time a model on its test_data_set_0 inputs.
    Bench(bench::BenchArgs),
    /// Optimize a model and write it back as ONNX (fused ops in ai.ort_rs.fused).
    Optimize(optimize::OptimizeArgs),
    /// Generate tokens greedily with a decoder model and its KV cache.
    Generate(generate::GenerateArgs),
}

/// Session options shared by run, test and bench.
#[derive(Args, Clone, Debug)]
pub struct SessionArgs {
    /// Provider order, e.g. `vulkan,cpu` (CPU is appended when missing).
    #[arg(long, value_delimiter = ',')]
    pub providers: Option<Vec<String>>,
    /// Graph optimization level: disable, basic, extended, all.
    #[arg(long, default_value = "all")]
    pub level: ort_runtime::Level,
    /// Intra-op threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// A provider option, as NAME:KEY=VALUE (repeatable).
    #[arg(long = "provider-option", value_name = "NAME:KEY=VALUE")]
    pub provider_options: Vec<String>,
}

impl SessionArgs {
    pub fn builder(&self) -> Result<ort_runtime::SessionBuilder, String> {
        let mut b = ort_runtime::Session::builder()
            .optimization_level(self.level)
            .threads(self.threads);
        if let Some(p) = &self.providers {
            b = b.providers(p);
        }
        for o in &self.provider_options {
            let (name, kv) = o
                .split_once(':')
                .ok_or_else(|| format!("--provider-option {o}: expected NAME:KEY=VALUE"))?;
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("--provider-option {o}: expected NAME:KEY=VALUE"))?;
            b = b.provider_option(name, k, v);
        }
        Ok(b)
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ORT_LOG")
                .unwrap_or_else(|_| "error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Providers(a) => providers::main(a),
        Cmd::Run(a) => run::main(a),
        Cmd::Test(a) => test::main(a),
        Cmd::Bench(a) => bench::main(a),
        Cmd::Optimize(a) => optimize::main(a),
        Cmd::Generate(a) => generate::main(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {}", e.lines().next().unwrap_or(""));
            std::process::exit(1);
        }
    }
}
