//! The public API: a [`SessionBuilder`] loads a model, optimizes it, finds and orders
//! the providers, partitions and compiles; a [`Session`] runs it, from any number of
//! threads at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ort_core::host::ProviderInstance;
use ort_core::{Dim, TypeInfo, Value};
use ort_graph::{Model, ValueDecl};
use ort_optimizer::{Level, Pass, PassManager, PassReport, FUSED_DOMAIN};

use crate::arena::Arena;
use crate::discovery::{discover, search_path, Outcome};
use crate::error::{Error, Result};
use crate::execute::Exec;
use crate::explain::Explain;
use crate::fold::CpuEvaluator;
use crate::partition::partition;
use crate::plan::{Plan, Planner};
use crate::profile::Profiler;

/// Configures and creates a [`Session`].
pub struct SessionBuilder {
    level: Level,
    threads: usize,
    providers: Option<Vec<String>>,
    provider_dirs: Vec<PathBuf>,
    options: HashMap<String, Vec<(String, String)>>,
    profile: Option<PathBuf>,
    passes: Vec<Box<dyn Pass>>,
    cpu_fallback: bool,
}

impl Default for SessionBuilder {
    fn default() -> Self {
        SessionBuilder {
            level: Level::All,
            threads: 0,
            providers: None,
            provider_dirs: Vec::new(),
            options: HashMap::new(),
            profile: None,
            passes: Vec::new(),
            cpu_fallback: true,
        }
    }
}

impl SessionBuilder {
    pub fn new() -> SessionBuilder {
        SessionBuilder::default()
    }
    pub fn optimization_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }
    /// Intra-op threads per provider (0 = the provider decides, usually all cores).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }
    /// Forces the provider order, e.g. `["vulkan", "cpu"]`. CPU is appended when
    /// missing unless [`Self::disable_cpu_fallback`] is set.
    pub fn providers<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.providers = Some(names.iter().map(|s| s.as_ref().to_string()).collect());
        self
    }
    /// A directory searched for provider libraries before the default places.
    pub fn provider_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.provider_dirs.push(dir.into());
        self
    }
    /// An option passed to one provider when it is created.
    pub fn provider_option(mut self, provider: &str, key: &str, value: &str) -> Self {
        self.options
            .entry(provider.to_string())
            .or_default()
            .push((key.to_string(), value.to_string()));
        self
    }
    /// Writes a Chrome-trace profile to `path` when the session ends (or on
    /// [`Session::end_profiling`]).
    pub fn profiling(mut self, path: impl Into<PathBuf>) -> Self {
        self.profile = Some(path.into());
        self
    }
    /// Adds a user graph pass to the optimizer.
    pub fn with_pass(mut self, pass: Box<dyn Pass>) -> Self {
        self.passes.push(pass);
        self
    }
    /// Fail instead of adding the CPU provider when the forced list lacks it.
    pub fn disable_cpu_fallback(mut self) -> Self {
        self.cpu_fallback = false;
        self
    }

    /// Loads, optimizes, partitions and compiles the model at `path`.
    pub fn load(self, path: impl AsRef<Path>) -> Result<Session> {
        let model = ort_graph::load(path.as_ref())?;
        self.build(model)
    }

    /// As [`Self::load`], from an already loaded model.
    pub fn build(mut self, model: Model) -> Result<Session> {
        let profile = self.profile.take();
        let (model, reports, providers, warnings) = self.prepare(model)?;
        let file = file_of(&model);
        let at_file = |e: Error| e.in_file(&file);
        let (g, opsets) = (&model.graph, &model.opsets);
        let parts = partition(g, opsets, &providers, &[]).map_err(at_file)?;
        let explain = Explain::new(g, &parts, &providers);
        let planner = Planner {
            opsets,
            providers: &providers,
        };
        let plan = planner.build(g, &parts, &[]).map_err(at_file)?;
        Ok(Session {
            plan,
            arena: Arena::default(),
            profiler: profile.map(Profiler::new),
            explain,
            warnings,
            passes: reports,
            providers,
            file,
        })
    }

    /// Only optimizes `model` at the builder's level (what `ort optimize` writes):
    /// the providers are started for constant folding, nothing is partitioned.
    pub fn optimize(self, model: Model) -> Result<(Model, Vec<PassReport>)> {
        let (model, reports, _, _) = self.prepare(model)?;
        Ok((model, reports))
    }

    #[allow(clippy::type_complexity)]
    fn prepare(
        self,
        mut model: Model,
    ) -> Result<(
        Model,
        Vec<PassReport>,
        Vec<Arc<ProviderInstance>>,
        Vec<String>,
    )> {
        let file = file_of(&model);
        let mut warnings = Vec::new();
        let providers = select_providers(
            &self.provider_dirs,
            self.providers.as_deref(),
            &self.options,
            self.threads,
            self.cpu_fallback,
            &mut warnings,
        )?;
        let mut pm = PassManager::new();
        for p in self.passes {
            pm.register(p);
        }
        let eval = providers
            .iter()
            .find(|p| p.name() == "cpu")
            .map(|cpu| CpuEvaluator {
                cpu: cpu.clone(),
                arena: Arena::default(),
            });
        let reports = pm
            .run(
                &mut model.graph,
                &model.opsets,
                self.level,
                eval.as_ref().map(|e| e as &dyn ort_optimizer::Evaluator),
            )
            .map_err(|e| Error::from(e).in_file(&file))?;
        if reports.iter().any(|r| r.changes > 0) && !model.opsets.contains_key(FUSED_DOMAIN) {
            let fused = model.graph.nodes.iter().any(uses_fused);
            if fused {
                model.opsets.insert(FUSED_DOMAIN.to_string(), 1);
            }
        }
        Ok((model, reports, providers, warnings))
    }
}

fn file_of(model: &Model) -> String {
    model
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "model".into())
}

/// True when `n` or a node of its subgraphs is in the fused domain.
fn uses_fused(n: &ort_graph::Node) -> bool {
    n.domain == FUSED_DOMAIN || n.subgraphs().any(|g| g.nodes.iter().any(uses_fused))
}

fn select_providers(
    dirs: &[PathBuf],
    forced: Option<&[String]>,
    options: &HashMap<String, Vec<(String, String)>>,
    threads: usize,
    cpu_fallback: bool,
    warnings: &mut Vec<String>,
) -> Result<Vec<Arc<ProviderInstance>>> {
    let found = discover(dirs);
    let mut ready = Vec::new();
    let mut unavailable: HashMap<String, String> = HashMap::new();
    for f in found {
        match f.outcome {
            Outcome::Ready(l) => ready.push(l),
            // The probe knows no options; one given options (a library folder,
            // a device) is still asked to start, and says why if it cannot.
            Outcome::Unavailable(l, _) if options.contains_key(l.name()) => ready.push(l),
            Outcome::Unavailable(l, why) => {
                unavailable.insert(l.name().to_string(), why);
            }
            Outcome::Refused(e) => warnings.push(format!("refused provider library {e}")),
            Outcome::Shadowed(_) => {}
        }
    }
    if !ready.iter().any(|l| l.name() == "cpu") {
        let searched: Vec<String> = search_path(dirs)
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Err(Error::provider(format!(
            "no CPU provider found (searched {}); build it with `cargo xtask build` or point ORT_PROVIDER_PATH at the folder holding libort_provider_cpu.so",
            if searched.is_empty() { "nothing".into() } else { searched.join(", ") }
        )));
    }
    let order: Vec<String> = match forced {
        Some(list) => {
            let mut names: Vec<String> = Vec::new();
            for n in list {
                if ready.iter().any(|l| l.name() == n) {
                    names.push(n.clone());
                } else {
                    let why = unavailable
                        .get(n)
                        .cloned()
                        .unwrap_or_else(|| "no such provider library was found".into());
                    warnings.push(format!("provider '{n}' was requested but cannot start: {why}; its nodes fall back to the next provider"));
                }
            }
            if !names.iter().any(|n| n == "cpu") {
                if cpu_fallback {
                    names.push("cpu".into());
                } else if names.is_empty() {
                    return Err(Error::provider(
                        "none of the requested providers can start and CPU fallback is disabled",
                    ));
                }
            }
            names
        }
        None => {
            let mut libs: Vec<&ort_core::host::ProviderLibrary> = ready.iter().collect();
            libs.sort_by_key(|l| (-l.info.default_priority, l.name() == "cpu"));
            libs.iter().map(|l| l.name().to_string()).collect()
        }
    };
    for w in warnings.iter() {
        tracing::warn!("{w}");
    }
    let mut out = Vec::new();
    for name in order {
        let lib = ready
            .iter()
            .find(|l| l.name() == name)
            .expect("checked above");
        let mut opts = vec![("threads".to_string(), threads.to_string())];
        opts.extend(options.get(&name).cloned().unwrap_or_default());
        match lib.create(&opts) {
            Ok(p) => out.push(p),
            Err(e) if name == "cpu" => {
                return Err(Error::provider(format!(
                    "the CPU provider failed to start: {e}"
                )))
            }
            Err(e) => {
                let w = format!("provider '{name}' failed to start: {e}; its nodes fall back to the next provider");
                tracing::warn!("{w}");
                warnings.push(w);
            }
        }
    }
    Ok(out)
}

/// A loaded, compiled model. `Send + Sync`: `run` may be called from many threads.
pub struct Session {
    plan: Plan,
    arena: Arena,
    profiler: Option<Profiler>,
    explain: Explain,
    warnings: Vec<String>,
    passes: Vec<PassReport>,
    providers: Vec<Arc<ProviderInstance>>,
    file: String,
}

impl Session {
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// Inputs the caller feeds (initializer-backed inputs excluded).
    pub fn inputs(&self) -> &[ValueDecl] {
        &self.plan.input_decls
    }
    pub fn outputs(&self) -> &[ValueDecl] {
        &self.plan.output_decls
    }
    /// Providers in partitioning order.
    pub fn provider_names(&self) -> Vec<&str> {
        self.providers.iter().map(|p| p.name()).collect()
    }
    /// Where each node runs, and why providers declined nodes.
    pub fn explain(&self) -> &Explain {
        &self.explain
    }
    /// Things the user should know: providers that were asked for and could not start.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// What the optimizer changed.
    pub fn optimizer_report(&self) -> &[PassReport] {
        &self.passes
    }

    /// Runs with named inputs; returns the `outputs` asked for (all when empty), in
    /// that order.
    pub fn run(&self, inputs: &[(&str, Value)], outputs: &[&str]) -> Result<Vec<Value>> {
        let mut by_pos: Vec<Option<Value>> = vec![None; self.plan.inputs.len()];
        let mut overrides = Vec::new();
        for (name, v) in inputs {
            if let Some(i) = self.plan.input_decls.iter().position(|d| d.name == *name) {
                by_pos[i] = Some(v.clone());
            } else if let Some((_, id)) = self.plan.overridable.iter().find(|(n, _)| n == name) {
                overrides.push((*id, v.clone()));
            } else {
                let e = Error::input(format!("the model has no input named '{name}'"));
                return Err(e.in_file(&self.file));
            }
        }
        let all = self.run_positional_with(by_pos, overrides)?;
        if outputs.is_empty() {
            return Ok(all);
        }
        outputs
            .iter()
            .map(|o| {
                self.plan
                    .output_decls
                    .iter()
                    .position(|d| d.name == *o)
                    .map(|i| all[i].clone())
                    .ok_or_else(|| {
                        Error::input(format!("the model has no output named '{o}'"))
                            .in_file(&self.file)
                    })
            })
            .collect()
    }

    /// Runs with inputs in declaration order (`None` = an optional input left out);
    /// returns every output in order.
    pub fn run_positional(&self, inputs: Vec<Option<Value>>) -> Result<Vec<Value>> {
        self.run_positional_with(inputs, vec![])
    }

    /// Runs the plan; errors name the model file here, at the edge.
    fn run_positional_with(
        &self,
        inputs: Vec<Option<Value>>,
        overrides: Vec<(usize, Value)>,
    ) -> Result<Vec<Value>> {
        if inputs.len() != self.plan.inputs.len() {
            let e = Error::input(format!(
                "expected {} inputs, got {}",
                self.plan.inputs.len(),
                inputs.len()
            ));
            return Err(e.in_file(&self.file));
        }
        for (d, v) in self.plan.input_decls.iter().zip(&inputs) {
            if let Some(v) = v {
                check_input(d, v).map_err(|e| {
                    Error::input(format!("input '{}': {e}", d.name)).in_file(&self.file)
                })?;
            }
        }
        let ex = Exec {
            arena: &self.arena,
            profiler: self.profiler.as_ref(),
        };
        in_scopes(
            &self.providers,
            Box::new(|| ex.run(&self.plan, inputs, vec![], overrides)),
        )
        .map_err(|e| e.in_file(&self.file))
    }

    /// Writes the profile now; returns its path (None when profiling is off).
    pub fn end_profiling(&self) -> Option<PathBuf> {
        self.profiler.as_ref().and_then(|p| p.write().ok())
    }
}

/// Runs `f` inside every provider's run scope (a pool thread for the CPU
/// provider), so partitions start without a thread hand-off each.
fn in_scopes<R: Send>(
    providers: &[Arc<ProviderInstance>],
    f: Box<dyn FnOnce() -> R + Send + '_>,
) -> R {
    match providers.split_first() {
        None => f(),
        Some((p, rest)) => p.run_scope(|| in_scopes(rest, f)),
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(p) = &self.profiler {
            if let Err(e) = p.write() {
                tracing::warn!("could not write the profile: {e}");
            }
        }
    }
}

/// The fed value must match the declared element type and known dims.
fn check_input(d: &ValueDecl, v: &Value) -> std::result::Result<(), String> {
    match (&d.ty, v) {
        (TypeInfo::Tensor { elem, shape }, Value::Tensor(t)) => {
            if *elem != ort_core::ElemType::Undefined && *elem != t.elem() {
                return Err(format!("expected tensor({elem}), got tensor({})", t.elem()));
            }
            if let Some(s) = shape.as_ref().into_option() {
                let ok = s.len() == t.rank()
                    && s.iter()
                        .zip(t.shape())
                        .all(|(d, &n)| !matches!(d, Dim::Known(k) if *k != n));
                if !ok {
                    let want: Vec<String> = s.iter().map(|d| d.to_string()).collect();
                    return Err(format!(
                        "expected shape [{}], got {:?}",
                        want.join(","),
                        t.shape()
                    ));
                }
            }
            Ok(())
        }
        (TypeInfo::Tensor { .. }, other) => {
            Err(format!("expected a tensor, got a {}", other.kind_name()))
        }
        _ => Ok(()),
    }
}
