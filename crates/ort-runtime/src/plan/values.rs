//! Naming: each value of a graph gets a dense id, in the order graph inputs,
//! initializers, values read from enclosing scopes, node outputs. Copies that
//! placement adds get the ids after these.

use std::collections::{HashMap, HashSet};

use ort_core::Value;
use ort_graph::{Graph, ValueDecl};

use crate::error::{Error, Result};

pub struct Values {
    pub names: Vec<String>,
    /// The graph's own names (not the copies') to ids.
    pub index: HashMap<String, usize>,
    /// Runtime inputs (declared inputs without an initializer), in order.
    pub inputs: Vec<usize>,
    pub input_decls: Vec<ValueDecl>,
    /// Declared inputs that an initializer gives a default to: (name, id).
    pub overridable: Vec<(String, usize)>,
    pub constants: Vec<(usize, Value)>,
    /// Ids of the values read from enclosing scopes, in the order of `outer`.
    pub captures: Vec<usize>,
}

impl Values {
    pub fn new(g: &Graph, outer: &[String]) -> Values {
        let mut v = Values {
            names: Vec::new(),
            index: HashMap::new(),
            inputs: Vec::new(),
            input_decls: Vec::new(),
            overridable: Vec::new(),
            constants: Vec::new(),
            captures: Vec::new(),
        };
        let init_names: HashSet<&str> = g.initializers.iter().map(|(n, _)| n.as_str()).collect();
        for d in &g.inputs {
            let id = v.intern(&d.name);
            if init_names.contains(d.name.as_str()) {
                v.overridable.push((d.name.clone(), id));
            } else {
                v.inputs.push(id);
                v.input_decls.push(d.clone());
            }
        }
        for (n, t) in &g.initializers {
            let id = v.intern(n);
            v.constants.push((id, Value::Tensor(t.clone())));
        }
        v.captures = outer.iter().map(|n| v.intern(n)).collect();
        for n in &g.nodes {
            for o in n.outputs.iter().filter(|o| !o.is_empty()) {
                v.intern(o);
            }
        }
        v
    }

    fn intern(&mut self, name: &str) -> usize {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// The id of `name`; None for the empty name of an omitted optional value.
    pub fn id(&self, name: &str) -> Option<usize> {
        if name.is_empty() {
            None
        } else {
            self.index.get(name).copied()
        }
    }

    /// The id of `name`, which must be defined.
    pub fn require(&self, name: &str, what: &str) -> Result<usize> {
        self.id(name)
            .ok_or_else(|| Error::partition(format!("{what} '{name}' is not defined")))
    }

    /// A new value, `src` moved to another memory, named after it.
    pub fn add_copy(&mut self, src: usize, memory: &str) -> usize {
        self.names.push(format!("{}@{memory}", self.names[src]));
        self.names.len() - 1
    }
}
