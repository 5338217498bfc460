//! A test provider that declares an ABI major version one above the host's, as a
//! plugin built against an incompatible ort-core would. The host must refuse it
//! with a message naming both versions.

use ort_core::abi::{AbiVersion, Capability, FusedNode, ProviderInfo};
use ort_core::plugin::{Options, Partition, Provider};
use ort_core::{Error, GraphView};

pub struct FromTheFuture;

impl Provider for FromTheFuture {
    fn info() -> ProviderInfo {
        ProviderInfo::new("future", "ort tests", "9.0.0", 50)
    }
    fn create(_: &Options) -> Result<Self, Error> {
        Ok(FromTheFuture)
    }
    fn get_capability(&self, _: &GraphView<'_>) -> Result<Capability, Error> {
        Ok(Capability::default())
    }
    fn compile(&self, _: &FusedNode<'_>) -> Result<Box<dyn Partition>, Error> {
        Err(Error::not_implemented("never compiles"))
    }
}

ort_core::export_provider!(
    FromTheFuture,
    AbiVersion {
        major: ort_core::ABI_VERSION.major + 1,
        minor: 0
    }
);
