//! Kubernetes' protobuf types (k8s-pb) into the ones the tool reads: the
//! same fields under the same names, only the wire format differs. An
//! empty list or map is absent, as in the JSON the API server writes, and a
//! `Time` keeps whole seconds, as JSON's does.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// k8s-pb's types of the groups read in protobuf.
mod pb {
    pub use k8s_pb::api::apps::v1::*;
    pub use k8s_pb::api::core::v1::*;
    pub use k8s_pb::api::storage::v1::*;
    pub use k8s_pb::apimachinery::pkg::apis::meta::v1::*;
}

/// k8s-openapi's types of the groups read in protobuf.
mod oa {
    pub use k8s_openapi::api::apps::v1::*;
    pub use k8s_openapi::api::core::v1::*;
    pub use k8s_openapi::api::storage::v1::*;
    pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::*;
}

/// A value of a protobuf type as the tool's type `T`.
pub(super) trait IntoApi<T> {
    fn into_api(self) -> T;
}

/// Required scalars: an absent one is its zero.
macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl IntoApi<$t> for Option<$t> {
            fn into_api(self) -> $t {
                self.unwrap_or_default()
            }
        }
    )*};
}
scalar!(String, bool, i32, i64);

/// An item of a list or map is kept as it is: an empty label value is one.
macro_rules! item {
    ($($t:ty),*) => {$(
        impl IntoApi<$t> for $t {
            fn into_api(self) -> $t {
                self
            }
        }
    )*};
}
item!(String, i64);

/// Optional scalars. The API server's protobuf carries every field that
/// is not a pointer in Go, zero or not, where its JSON leaves out a zero
/// value: an empty string is absent, as in JSON. A zero number or `false`
/// is kept, since a pointer field's zero means something (`runAsUser: 0`,
/// `automountServiceAccountToken: false`); where a zero one is left out of
/// JSON and read as absent, the type's own conversion says so.
impl IntoApi<Option<String>> for Option<String> {
    fn into_api(self) -> Option<String> {
        self.filter(|s| !s.is_empty())
    }
}

macro_rules! kept {
    ($($t:ty),*) => {$(
        impl IntoApi<Option<$t>> for Option<$t> {
            fn into_api(self) -> Option<$t> {
                self
            }
        }
    )*};
}
kept!(bool, i32, i64);

/// A field that is not a pointer in Go: JSON leaves it out when zero.
fn omitempty<T: Default + PartialEq>(value: Option<T>) -> Option<T> {
    value.filter(|v| *v != T::default())
}

/// The optional form of a message type's conversion.
macro_rules! optional {
    ($($pb:ty => $api:ty),* $(,)?) => {$(
        impl IntoApi<Option<$api>> for Option<$pb> {
            fn into_api(self) -> Option<$api> {
                self.map(IntoApi::into_api)
            }
        }
    )*};
}

impl<P: IntoApi<T>, T> IntoApi<Vec<T>> for Vec<P> {
    fn into_api(self) -> Vec<T> {
        let mut items: Vec<T> = self.into_iter().map(IntoApi::into_api).collect();
        items.shrink_to_fit();
        items
    }
}

impl<P: IntoApi<T>, T> IntoApi<Option<Vec<T>>> for Vec<P> {
    fn into_api(self) -> Option<Vec<T>> {
        (!self.is_empty()).then(|| self.into_api())
    }
}

impl<P: IntoApi<T>, T> IntoApi<Option<BTreeMap<String, T>>> for BTreeMap<String, P> {
    fn into_api(self) -> Option<BTreeMap<String, T>> {
        (!self.is_empty()).then(|| self.into_iter().map(|(k, v)| (k, v.into_api())).collect())
    }
}

/// The parts the API types keep in a box.
impl<P: IntoApi<T>, T> IntoApi<Option<Box<T>>> for Option<P> {
    fn into_api(self) -> Option<Box<T>> {
        self.map(|p| Box::new(p.into_api()))
    }
}

impl IntoApi<Quantity> for k8s_pb::apimachinery::pkg::api::resource::Quantity {
    fn into_api(self) -> Quantity {
        Quantity(self.string.unwrap_or_default())
    }
}

impl IntoApi<IntOrString> for k8s_pb::apimachinery::pkg::util::intstr::IntOrString {
    fn into_api(self) -> IntOrString {
        // Type 1 is a string, 0 (or none) an integer.
        match self.r#type {
            Some(1) => IntOrString::String(self.str_val.unwrap_or_default()),
            _ => IntOrString::Int(self.int_val.unwrap_or_default()),
        }
    }
}

optional!(
    k8s_pb::apimachinery::pkg::api::resource::Quantity => Quantity,
    k8s_pb::apimachinery::pkg::util::intstr::IntOrString => IntOrString,
);

impl IntoApi<IntOrString> for Option<k8s_pb::apimachinery::pkg::util::intstr::IntOrString> {
    fn into_api(self) -> IntOrString {
        self.map(IntoApi::into_api).unwrap_or(IntOrString::Int(0))
    }
}

/// A time; Go's zero time, which JSON writes as `null`, is an empty
/// message in protobuf.
fn timestamp(seconds: Option<i64>, nanos: Option<i32>) -> Option<jiff::Timestamp> {
    if seconds.unwrap_or_default() == 0 && nanos.unwrap_or_default() == 0 {
        return None;
    }
    jiff::Timestamp::new(seconds.unwrap_or_default(), nanos.unwrap_or_default()).ok()
}

impl IntoApi<Option<Time>> for Option<pb::Time> {
    fn into_api(self) -> Option<Time> {
        // JSON keeps whole seconds.
        self.and_then(|t| timestamp(t.seconds, None)).map(Time)
    }
}

impl IntoApi<Option<MicroTime>> for Option<pb::MicroTime> {
    fn into_api(self) -> Option<MicroTime> {
        // JSON keeps microseconds.
        self.and_then(|t| timestamp(t.seconds, t.nanos.map(|n| n / 1_000 * 1_000)))
            .map(MicroTime)
    }
}

/// A type whose fields have the same names in both, `a = b` where they do
/// not. The fields after `omitempty` are not pointers in Go: JSON leaves
/// them out when zero, and so does the tool.
macro_rules! convert {
    ($pb:ident => $oa:ident {
        $($field:ident $(= $from:ident)?),* $(,)?
        $(; omitempty $($zero:ident),* $(,)?)?
    }) => {
        impl IntoApi<oa::$oa> for pb::$pb {
            fn into_api(self) -> oa::$oa {
                let p = self;
                oa::$oa {
                    $($field: convert!(@from p $field $($from)?).into_api(),)*
                    $($($zero: omitempty(p.$zero),)*)?
                }
            }
        }
        optional!(pb::$pb => oa::$oa);
    };
    (@from $p:ident $field:ident) => { $p.$field };
    (@from $p:ident $field:ident $from:ident) => { $p.$from };
}

/// A type that names a ConfigMap or Secret: protobuf nests the name in a
/// `LocalObjectReference`, JSON does not.
macro_rules! convert_named {
    ($pb:ident => $oa:ident { $($field:ident),* $(,)? }) => {
        impl IntoApi<oa::$oa> for pb::$pb {
            fn into_api(self) -> oa::$oa {
                let p = self;
                oa::$oa {
                    name: p.local_object_reference.and_then(|r| r.name).unwrap_or_default(),
                    $($field: p.$field.into_api(),)*
                }
            }
        }
        optional!(pb::$pb => oa::$oa);
    };
}

/// A part JSON requires: absent in protobuf, it is its default.
macro_rules! required {
    ($($pb:ident => $oa:ident),* $(,)?) => {$(
        impl IntoApi<oa::$oa> for Option<pb::$pb> {
            fn into_api(self) -> oa::$oa {
                self.map(IntoApi::into_api).unwrap_or_default()
            }
        }
    )*};
}

/// A container's fields, which a Container and an EphemeralContainer
/// share: `$c` is k8s-pb's container (or its common part), `$extra` the
/// fields of `$api` alone.
macro_rules! container {
    ($c:ident => $($api:ident)::+ { $($extra:tt)* }) => {
        $($api)::+ {
            args: $c.args.into_api(),
            command: $c.command.into_api(),
            env: $c.env.into_api(),
            env_from: $c.env_from.into_api(),
            image: $c.image.into_api(),
            image_pull_policy: $c.image_pull_policy.into_api(),
            lifecycle: $c.lifecycle.into_api(),
            liveness_probe: $c.liveness_probe.into_api(),
            name: $c.name.into_api(),
            ports: $c.ports.into_api(),
            readiness_probe: $c.readiness_probe.into_api(),
            resize_policy: $c.resize_policy.into_api(),
            resources: $c.resources.into_api(),
            restart_policy: $c.restart_policy.into_api(),
            // Newer than the protobuf types: not in them.
            restart_policy_rules: None,
            security_context: $c.security_context.into_api(),
            startup_probe: $c.startup_probe.into_api(),
            stdin: omitempty($c.stdin),
            stdin_once: omitempty($c.stdin_once),
            termination_message_path: $c.termination_message_path.into_api(),
            termination_message_policy: $c.termination_message_policy.into_api(),
            tty: omitempty($c.tty),
            volume_devices: $c.volume_devices.into_api(),
            volume_mounts: $c.volume_mounts.into_api(),
            working_dir: $c.working_dir.into_api(),
            $($extra)*
        }
    };
}

mod k8s;
mod tool;
