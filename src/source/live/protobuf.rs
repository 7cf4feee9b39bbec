//! A LIST answered in Kubernetes' protobuf encoding, for the kinds a large
//! cluster has most of: pods, events, claims, volumes, attachments, nodes
//! and the workloads. Building the JSON of 10,000 pods cost the API server
//! twice the CPU of their protobuf (BENCHMARKS.md), on the machine the
//! on-call engineer is waiting on. The answer is read as it arrives, an
//! item at a time, like the JSON in [`super::page`].

mod into_api;

use crate::api::{Event, Pod};
use crate::source::dump::{Keep, LAST_APPLIED};
use into_api::IntoApi;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prost::Message;
use std::io::{BufReader, Read};

/// What a LIST of a kind read in protobuf asks for: protobuf, or JSON from
/// a server (or proxy) that cannot give it.
pub(super) const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";

/// The four bytes every protobuf answer of the API server starts with.
const MAGIC: &[u8; 4] = b"k8s\0";

/// How one item of a protobuf LIST becomes the tool's type.
type Decode<K> = fn(&[u8]) -> Result<K, prost::DecodeError>;

/// How a kind is read: in protobuf or as JSON.
pub(super) trait Wire: Sized {
    /// One item of a protobuf LIST as this type; `None` for the kinds read
    /// as JSON (small lists, and the custom resources, which have no
    /// protobuf encoding).
    const PROTOBUF: Option<Decode<Self>> = None;
}

fn decode<P: Message + Default + IntoApi<T>, T>(bytes: &[u8]) -> Result<T, prost::DecodeError> {
    Ok(P::decode(bytes)?.into_api())
}

/// The kinds read in protobuf, with their k8s-pb type.
macro_rules! protobuf {
    ($($kind:ty => $pb:ty),* $(,)?) => {$(
        impl Wire for $kind {
            const PROTOBUF: Option<Decode<Self>> = Some(decode::<$pb, $kind>);
        }
    )*};
}

protobuf!(
    Pod => k8s_pb::api::core::v1::Pod,
    Event => k8s_pb::api::core::v1::Event,
    crate::api::PersistentVolume => k8s_pb::api::core::v1::PersistentVolume,
    k8s_openapi::api::core::v1::PersistentVolumeClaim => k8s_pb::api::core::v1::PersistentVolumeClaim,
    k8s_openapi::api::core::v1::Node => k8s_pb::api::core::v1::Node,
    crate::api::VolumeAttachment => k8s_pb::api::storage::v1::VolumeAttachment,
    crate::api::Deployment => k8s_pb::api::apps::v1::Deployment,
    crate::api::ReplicaSet => k8s_pb::api::apps::v1::ReplicaSet,
    crate::api::StatefulSet => k8s_pb::api::apps::v1::StatefulSet,
    crate::api::DaemonSet => k8s_pb::api::apps::v1::DaemonSet,
);

macro_rules! json {
    ($($kind:ty),* $(,)?) => {$(impl Wire for $kind {})*};
}

json!(
    crate::api::Job,
    crate::api::CronJob,
    crate::volume_snapshot::VolumeSnapshot,
    crate::volume_snapshot::VolumeSnapshotContent,
    crate::volume_snapshot::VolumeSnapshotClass,
    crate::volume_populator::VolumePopulator,
    k8s_openapi::api::core::v1::ResourceQuota,
    k8s_openapi::api::core::v1::LimitRange,
    k8s_openapi::api::storage::v1::StorageClass,
    k8s_openapi::api::storage::v1::CSIDriver,
    k8s_openapi::api::storage::v1::CSINode,
    k8s_openapi::api::storage::v1::CSIStorageCapacity,
    k8s_openapi::api::coordination::v1::Lease,
);

/// A protobuf answer that cannot be read.
fn invalid(why: impl std::fmt::Display) -> serde_json::Error {
    serde::de::Error::custom(format!("not a Kubernetes protobuf list: {why}"))
}

/// The items of one protobuf page read from `reader`, each stripped as
/// [`super::page`] strips JSON items, and its continue token.
pub(super) fn read_page<K: Wire + kube::Resource, R: Read>(
    reader: R,
    keep: Keep,
) -> serde_json::Result<(Vec<K>, Option<String>)> {
    let decode_item = K::PROTOBUF.ok_or_else(|| invalid("this kind is read as JSON"))?;
    let mut wire = Fields::new(BufReader::with_capacity(1 << 16, reader));
    let mut magic = [0u8; 4];
    wire.read
        .read_exact(&mut magic)
        .map_err(serde_json::Error::io)?;
    if &magic != MAGIC {
        return Err(invalid("it does not start with the protobuf prefix"));
    }
    let mut items = Vec::new();
    let mut continue_token = None;
    let mut raw_seen = false;
    // The envelope (runtime.Unknown): 2 is the list's own bytes, 3 its
    // content encoding, which the API server leaves empty.
    while let Some((field, wire_type)) = wire.tag(None)? {
        match (field, wire_type) {
            (2, LEN) => {
                raw_seen = true;
                let end = wire.read_len()? + wire.at;
                // The list: 1 is its ListMeta, 2 each item.
                while let Some((field, wire_type)) = wire.tag(Some(end))? {
                    match (field, wire_type) {
                        (1, LEN) => {
                            let meta = k8s_pb::apimachinery::pkg::apis::meta::v1::ListMeta::decode(
                                wire.read_bytes()?,
                            )
                            .map_err(invalid)?;
                            continue_token = meta.r#continue.filter(|t| !t.is_empty());
                        }
                        (2, LEN) => {
                            let mut item = decode_item(wire.read_bytes()?).map_err(invalid)?;
                            strip(item.meta_mut(), keep);
                            items.push(item);
                        }
                        (_, wire_type) => wire.skip(wire_type)?,
                    }
                }
                if wire.at != end {
                    return Err(invalid("an item runs past the end of the list"));
                }
            }
            (3, LEN) => {
                if !wire.read_bytes()?.is_empty() {
                    return Err(invalid("its content is encoded"));
                }
            }
            (_, wire_type) => wire.skip(wire_type)?,
        }
    }
    if !raw_seen {
        return Err(invalid("it holds no list"));
    }
    items.shrink_to_fit();
    Ok((items, continue_token))
}

/// What a diagnosis never reads: the last-applied annotation, a copy of
/// the object (managedFields are never converted).
pub(super) fn strip(meta: &mut ObjectMeta, keep: Keep) {
    if keep == Keep::Diagnosis {
        if let Some(annotations) = &mut meta.annotations {
            annotations.remove(LAST_APPLIED);
        }
    }
}

/// Protobuf's length-delimited wire type.
const LEN: u8 = 2;

/// The fields of a protobuf message read from a stream, with the offset
/// read so far.
struct Fields<R> {
    read: R,
    at: usize,
    buf: Vec<u8>,
}

impl<R: Read> Fields<R> {
    fn new(read: R) -> Self {
        Fields {
            read,
            at: 4,
            buf: Vec::new(),
        }
    }

    fn byte(&mut self) -> serde_json::Result<Option<u8>> {
        let mut b = [0u8; 1];
        loop {
            return match self.read.read(&mut b) {
                Ok(0) => Ok(None),
                Ok(_) => {
                    self.at += 1;
                    Ok(Some(b[0]))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(serde_json::Error::io(e)),
            };
        }
    }

    fn varint(&mut self) -> serde_json::Result<Option<u64>> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            match self.byte()? {
                None if shift == 0 => return Ok(None),
                None => return Err(invalid("it ends inside a number")),
                Some(b) => {
                    value |= u64::from(b & 0x7f) << shift;
                    if b & 0x80 == 0 {
                        return Ok(Some(value));
                    }
                }
            }
        }
        Err(invalid("a number is too long"))
    }

    /// The next field's number and wire type; `None` at the end of the
    /// stream, or at `end` within it.
    fn tag(&mut self, end: Option<usize>) -> serde_json::Result<Option<(u64, u8)>> {
        if end.is_some_and(|end| self.at >= end) {
            return Ok(None);
        }
        match self.varint()? {
            None if end.is_none() => Ok(None),
            None => Err(invalid("it ends early")),
            // The wire type is the low three bits.
            Some(tag) => Ok(Some((tag >> 3, (tag & 7) as u8))),
        }
    }

    fn read_len(&mut self) -> serde_json::Result<usize> {
        let len = self.varint()?.ok_or_else(|| invalid("it ends early"))?;
        usize::try_from(len).map_err(|_| invalid("a length is too large"))
    }

    /// The bytes of a length-delimited field, valid until the next read.
    fn read_bytes(&mut self) -> serde_json::Result<&[u8]> {
        let len = self.read_len()?;
        self.buf.clear();
        let got = (&mut self.read)
            .take(len as u64)
            .read_to_end(&mut self.buf)
            .map_err(serde_json::Error::io)?;
        if got != len {
            return Err(invalid("it ends early"));
        }
        self.at += len;
        Ok(&self.buf)
    }

    fn skip(&mut self, wire_type: u8) -> serde_json::Result<()> {
        let len = match wire_type {
            0 => {
                self.varint()?.ok_or_else(|| invalid("it ends early"))?;
                return Ok(());
            }
            1 => 8,
            LEN => self.read_len()?,
            5 => 4,
            _ => return Err(invalid(format!("unknown wire type {wire_type}"))),
        };
        let skipped = std::io::copy(&mut (&mut self.read).take(len as u64), &mut std::io::sink())
            .map_err(serde_json::Error::io)?;
        if skipped != len as u64 {
            return Err(invalid("it ends early"));
        }
        self.at += len;
        Ok(())
    }
}

/// The Status of an error answered in protobuf.
pub(super) fn status(bytes: &[u8]) -> Option<kube::core::Status> {
    let envelope =
        k8s_pb::apimachinery::pkg::runtime::Unknown::decode(bytes.strip_prefix(MAGIC)?).ok()?;
    let status =
        k8s_pb::apimachinery::pkg::apis::meta::v1::Status::decode(envelope.raw?.as_slice()).ok()?;
    let code = u16::try_from(status.code?).ok()?;
    Some(
        kube::core::Status::failure(
            &status.message.unwrap_or_default(),
            &status.reason.unwrap_or_default(),
        )
        .with_code(code),
    )
}

#[cfg(test)]
mod tests;
