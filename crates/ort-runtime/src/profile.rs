//! Profiling: one Chrome-trace event per step run (opens in Perfetto), with args
//! naming the op, node and provider, in the shape ONNX Runtime's profiles use.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

pub struct Profiler {
    path: PathBuf,
    start: Instant,
    events: Mutex<Vec<serde_json::Value>>,
}

impl Profiler {
    pub fn new(path: PathBuf) -> Profiler {
        Profiler {
            path,
            start: Instant::now(),
            events: Mutex::new(Vec::new()),
        }
    }

    pub fn record(&self, node: &str, op: &str, provider: &str, began: Instant) {
        let ts = began.duration_since(self.start).as_secs_f64() * 1e6;
        let dur = began.elapsed().as_secs_f64() * 1e6;
        let tid = thread_id();
        let ev = serde_json::json!({
            "cat": "Node", "ph": "X", "pid": std::process::id(), "tid": tid,
            "ts": ts, "dur": dur, "name": format!("{node}_kernel_time"),
            "args": { "op_name": op, "node_name": node, "provider": provider },
        });
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ev);
    }

    /// Writes the trace file; returns its path.
    pub fn write(&self) -> std::io::Result<PathBuf> {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let text = serde_json::to_string(&*events).map_err(std::io::Error::other)?;
        std::fs::write(&self.path, text)?;
        Ok(self.path.clone())
    }
}

fn thread_id() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    h.finish() % 100_000
}
