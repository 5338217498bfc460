//! Placement: the memory each value is in, and the copies that bring a value to
//! the memory a step reads it from. Each copy goes through the first provider (in
//! priority order) that says it can make it; between two devices that no provider
//! links directly, the value is staged through host memory.

use ort_core::{DeviceId, MemoryKind, Value};

use super::{Draft, Step, StepKind};
use crate::error::{Error, Result};

/// The hops that move a value from `from` to `to`, each (provider, destination):
/// one through the first provider `can` names, else two through host memory.
pub fn route(
    from: DeviceId,
    to: DeviceId,
    can: impl Fn(DeviceId, DeviceId) -> Option<usize>,
) -> Option<Vec<(usize, DeviceId)>> {
    if let Some(p) = can(from, to) {
        return Some(vec![(p, to)]);
    }
    let host = DeviceId::HOST;
    if from.kind == MemoryKind::Host || to.kind == MemoryKind::Host {
        return None;
    }
    Some(vec![(can(from, host)?, host), (can(host, to)?, to)])
}

impl Draft<'_> {
    /// The first provider that can copy from `from` to `to`.
    pub fn copier(&self, from: DeviceId, to: DeviceId) -> Option<usize> {
        self.planner
            .providers
            .iter()
            .position(|p| p.can_copy(from, to))
    }

    /// The id of `src` in memory `dev`, adding copy steps (or copying a constant
    /// once, now) when it lives elsewhere.
    pub fn place(&mut self, src: usize, dev: DeviceId) -> Result<usize> {
        let from = self.device_of[src];
        if from == dev {
            return Ok(src);
        }
        if let Some(&c) = self.copies.get(&(src, dev)) {
            return Ok(c);
        }
        let hops = route(from, dev, |a, b| self.copier(a, b)).ok_or_else(|| {
            Error::partition(format!(
                "no provider can copy '{}' from {from:?} to {dev:?}",
                self.values.names[src]
            ))
        })?;
        let mut at = src;
        for (p, to) in hops {
            at = match self.copies.get(&(at, to)) {
                Some(&c) => c,
                None => self.copy(at, to, p)?,
            };
        }
        Ok(at)
    }

    /// One copy of `src` into memory `to` by provider `p`.
    fn copy(&mut self, src: usize, to: DeviceId, p: usize) -> Result<usize> {
        let via = self.planner.providers[p].clone();
        let dst = self
            .values
            .add_copy(src, &format!("{:?}{}", to.kind, to.device));
        self.device_of.push(to);
        self.copies.insert((src, to), dst);
        let constant = self.values.constants.iter().find(|(i, _)| *i == src);
        if let Some(v) = constant.map(|(_, v)| v.clone()) {
            // Initializers move once per session, not once per run.
            let t = v
                .as_tensor()
                .ok_or_else(|| Error::partition("only tensors can be copied"))?;
            let moved = via.transfer(t, to).map_err(|e| {
                Error::partition(format!("uploading '{}': {e}", self.values.names[src]))
            })?;
            self.values.constants.push((dst, Value::Tensor(moved)));
        } else {
            self.steps.push(Step {
                kind: StepKind::Copy {
                    via: via.clone(),
                    to,
                },
                inputs: vec![Some(src)],
                outputs: vec![Some(dst)],
                label: format!("copy {}", self.values.names[src]),
                op: "MemcpyTransfer".into(),
                provider: via.name().to_string(),
            });
        }
        Ok(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(vendor: u32) -> DeviceId {
        DeviceId {
            kind: MemoryKind::Device,
            vendor,
            device: 0,
        }
    }

    /// Providers 0 and 1 each copy between the host and their own device;
    /// provider 2, when present, also between the two devices.
    fn can(linked: bool) -> impl Fn(DeviceId, DeviceId) -> Option<usize> {
        move |a, b| {
            let own = [dev(1), dev(2)];
            if linked && a != b && own.contains(&a) && own.contains(&b) {
                return Some(2);
            }
            (0..2).find(|&p| ort_core::abi::default_can_copy(own[p], a, b))
        }
    }

    #[test]
    fn host_and_device_copy_in_one_hop() {
        let host = DeviceId::HOST;
        assert_eq!(route(host, dev(2), can(false)), Some(vec![(1, dev(2))]));
        assert_eq!(route(dev(1), host, can(false)), Some(vec![(0, host)]));
    }

    #[test]
    fn device_to_device_is_direct_when_a_provider_links_them() {
        assert_eq!(route(dev(1), dev(2), can(true)), Some(vec![(2, dev(2))]));
    }

    #[test]
    fn device_to_device_is_staged_through_the_host_otherwise() {
        let host = DeviceId::HOST;
        assert_eq!(
            route(dev(1), dev(2), can(false)),
            Some(vec![(0, host), (1, dev(2))])
        );
        assert_eq!(route(dev(1), dev(3), can(false)), None);
    }
}
