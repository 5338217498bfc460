//! A test provider that claims every float `Relu` and panics in compute when the
//! input's first element is negative; otherwise it computes Relu correctly. Used to
//! check that a panicking provider fails one run without taking the process down.

use ort_core::abi::{Capability, FusedNode, ProviderInfo, RVec};
use ort_core::plugin::{Host, Options, Outputs, Partition, Provider};
use ort_core::{ElemType, Error, GraphView, Tensor, Value};

pub struct Faulty;

impl Provider for Faulty {
    fn info() -> ProviderInfo {
        ProviderInfo::new("faulty", "ort tests", "0.1.0", 100)
    }
    fn create(_: &Options) -> Result<Self, Error> {
        Ok(Faulty)
    }
    fn get_capability(&self, graph: &GraphView<'_>) -> Result<Capability, Error> {
        let mut cap = Capability::default();
        for n in graph
            .nodes
            .iter()
            .filter(|n| n.op_type.as_str() == "Relu" && n.assigned.is_empty())
        {
            cap.groups.push(RVec::from(vec![n.index]));
        }
        Ok(cap)
    }
    fn compile(&self, _: &FusedNode<'_>) -> Result<Box<dyn Partition>, Error> {
        Ok(Box::new(PanickyRelu))
    }
}

struct PanickyRelu;

impl Partition for PanickyRelu {
    fn compute(&self, inputs: &[Option<&Value>], host: &Host<'_>) -> Outputs {
        let x = inputs[0]
            .ok_or_else(|| Error::invalid("missing input"))?
            .tensor()?;
        if x.elem() != ElemType::F32 {
            return Err(Error::not_implemented("faulty only does f32"));
        }
        let v = x.as_slice::<f32>()?;
        if v.first().is_some_and(|&f| f < 0.0) {
            panic!("deliberate test panic: negative first element");
        }
        let out: Tensor = host.tensor(x.shape(), |o: &mut [f32]| {
            o.iter_mut().zip(v).for_each(|(o, &x)| *o = x.max(0.0))
        })?;
        Ok(vec![Some(Value::Tensor(out))])
    }
}

ort_core::export_provider!(Faulty);
