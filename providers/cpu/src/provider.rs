//! The provider object: capability (one group per supported node) and compile.

use std::collections::HashMap;
use std::sync::Arc;

use ort_core::abi::{Capability, FusedNode, ProviderInfo, RString, RVec, Tuple2};
use ort_core::plugin::{value_types, Host, Options, Partition, Provider};
use ort_core::{Error, GraphView, Value};

use crate::kernel::{Ctx, Kernel, NodeInfo, Outputs};
use crate::registry::{self, SameType};

pub struct CpuProvider {
    pool: Arc<rayon::ThreadPool>,
    threads: usize,
    /// Whether idle workers spin for work during a run (see `run_scope`).
    spin: bool,
}

impl Provider for CpuProvider {
    fn info() -> ProviderInfo {
        ProviderInfo::new("cpu", "ort", env!("CARGO_PKG_VERSION"), 0)
    }

    fn create(options: &Options) -> Result<Self, Error> {
        let mut threads: usize = options.parse("threads", 0)?;
        let spin = options.parse::<u8>("spin", 1)? != 0;
        if threads == 0 {
            threads = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("ort-cpu-{i}"))
            .build()
            .map_err(|e| Error::fail(format!("cannot start the CPU thread pool: {e}")))?;
        Ok(CpuProvider {
            pool: Arc::new(pool),
            threads,
            spin,
        })
    }

    fn get_capability(&self, graph: &GraphView<'_>) -> Result<Capability, Error> {
        let types = value_types(graph);
        let mut cap = Capability::default();
        for node in graph.nodes.iter() {
            if !node.assigned.is_empty() {
                continue;
            }
            let info = NodeInfo {
                node,
                graph,
                types: &types,
            };
            let probe_type = registry::lookup(node, None)
                .ok()
                .and_then(|d| info.input_type(d.type_input));
            match registry::lookup(node, probe_type) {
                Ok(_) => cap.groups.push(RVec::from(vec![node.index])),
                Err(why) => cap.declined.push(Tuple2(node.index, RString::from(why))),
            }
        }
        Ok(cap)
    }

    fn run_scope(&self, f: &mut (dyn FnMut() + Send)) {
        // The run stays on the caller's thread; with spinning on, the pool's
        // workers help its loops (`parallel::Helpers`), otherwise each large
        // kernel is handed to the pool.
        if self.threads > 1 && self.spin {
            crate::parallel::Helpers::run(&self.pool, self.threads - 1, f)
        } else {
            f()
        }
    }

    fn compile(&self, fused: &FusedNode<'_>) -> Result<Box<dyn Partition>, Error> {
        let graph = fused.graph;
        let types = value_types(graph);
        if fused.nodes.len() != 1 {
            return Err(Error::invalid("the CPU provider compiles single nodes"));
        }
        let node = graph
            .nodes
            .get(fused.nodes[0] as usize)
            .ok_or_else(|| Error::invalid("node index out of range"))?;
        let info = NodeInfo {
            node,
            graph,
            types: &types,
        };
        let first = registry::lookup(node, None)
            .map_err(|e| Error::not_implemented(format!("{}: {e}", node.describe())))?;
        let def = registry::lookup(node, info.input_type(first.type_input))
            .map_err(|e| Error::not_implemented(format!("{}: {e}", node.describe())))?;
        // Kernels report what is wrong; where is said here, once.
        let kernel = (def.build)(&info)
            .map_err(|e| Error::new(e.code, format!("{}: {}", node.describe(), e.message())))?;
        // Map the fused node's input order to the node's own input slots.
        let positions: HashMap<&str, usize> = fused
            .inputs
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let input_map = node
            .inputs
            .iter()
            .map(|n| {
                if n.is_empty() {
                    None
                } else {
                    positions.get(n.as_str()).copied()
                }
            })
            .collect();
        let output_map = fused
            .outputs
            .iter()
            .map(|o| node.outputs.iter().position(|n| n == o))
            .collect();
        Ok(Box::new(CpuPartition {
            kernel,
            input_map,
            output_map,
            same_type: def.same_type,
            describe: node.describe(),
            pool: self.pool.clone(),
            threads: self.threads,
        }))
    }
}

/// Input elements below which a kernel runs inline on the calling thread.
const INLINE_WORK: usize = 1 << 14;

struct CpuPartition {
    kernel: Box<dyn Kernel>,
    /// For each node input slot: its index among the fused node's inputs.
    input_map: Vec<Option<usize>>,
    /// For each fused output: the node output slot it is.
    output_map: Vec<Option<usize>>,
    same_type: SameType,
    describe: String,
    pool: Arc<rayon::ThreadPool>,
    threads: usize,
}

impl Partition for CpuPartition {
    fn compute(&self, inputs: &[Option<&Value>], host: &Host<'_>) -> Outputs {
        let ins: Vec<Option<&Value>> = self
            .input_map
            .iter()
            .map(|m| m.and_then(|i| inputs.get(i).copied().flatten()))
            .collect();
        // Handing a call to the pool costs a cross-thread wake-up (microseconds),
        // more than a small kernel's whole run: shape arithmetic, biases, scalars.
        // Those run on the caller's thread, single-threaded.
        let work: usize = ins
            .iter()
            .flatten()
            .filter_map(|v| v.as_tensor())
            .map(|t| t.len())
            .sum();
        // With one thread the pool adds only the hand-off: always inline.
        let inline = self.threads <= 1 || work < INLINE_WORK;
        let ctx = Ctx {
            host,
            threads: if inline { 1 } else { self.threads },
        };
        let result = if let Err(e) = self.same_type.check(&ins) {
            Err(e)
        } else if inline || crate::parallel::in_run() {
            self.kernel.compute(&ins, &ctx)
        } else {
            self.pool.install(|| self.kernel.compute(&ins, &ctx))
        };
        let mut outs = result
            .map_err(|e| Error::new(e.code, format!("{}: {}", self.describe, e.message())))?;
        Ok(self
            .output_map
            .iter()
            .map(|slot| slot.and_then(|s| outs.get_mut(s).and_then(|o| o.take())))
            .collect())
    }
}
