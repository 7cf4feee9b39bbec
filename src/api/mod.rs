//! The tool's own types for the objects whose k8s-openapi structs are far
//! larger than their JSON: a pod's `Volume` holds every volume source
//! Kubernetes has had inline (3 KB whichever is set), the projected volume
//! every pod has six projection kinds in each of its sources, a
//! `Container` its probes and hooks, every workload a whole pod
//! template, a container status two full container states and an event
//! two object references. These have
//! the same JSON shape, Rust field names and `Option`s as k8s-openapi's,
//! with the large, rarely set parts boxed; the small inner types
//! (VolumeMount, ObjectMeta, the statuses of other kinds) are
//! k8s-openapi's own. The top-level kinds implement k8s-openapi's traits,
//! so kube's `Api` and `ResourceExt` take them as they take its types.

mod apps;
mod batch;
mod event;
mod pod;
mod status;
mod volume;

pub use apps::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec, StatefulSet,
    StatefulSetSpec,
};
pub use batch::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
pub use event::Event;
pub use pod::{Container, Pod, PodSpec, PodTemplateSpec};
pub use status::{ContainerState, ContainerStatus, PodStatus};
pub use volume::{
    PersistentVolume, PersistentVolumeSpec, ProjectedVolumeSource, Volume, VolumeAttachment,
    VolumeAttachmentSource, VolumeAttachmentSpec, VolumeProjection,
};

use k8s_openapi::api::core::v1::{ConfigMapProjection, DownwardAPIProjection, SecretProjection};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer};

/// A required field given as `null` reads as its default, as k8s-openapi
/// reads it.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A value with no spare capacity in its lists. A list parsed from text
/// of unknown length grows by doubling from four: one volume, container or
/// mount would leave room for three more in every pod.
fn compact<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default + ShrinkToFit,
{
    let mut value: T = null_as_default(deserializer)?;
    value.shrink_to_fit();
    Ok(value)
}

trait ShrinkToFit {
    fn shrink_to_fit(&mut self);
}

impl<T> ShrinkToFit for Vec<T> {
    fn shrink_to_fit(&mut self) {
        Vec::shrink_to_fit(self);
    }
}

impl<T: ShrinkToFit> ShrinkToFit for Option<T> {
    fn shrink_to_fit(&mut self) {
        if let Some(value) = self {
            value.shrink_to_fit();
        }
    }
}

impl<T: ShrinkToFit> ShrinkToFit for Box<T> {
    fn shrink_to_fit(&mut self) {
        T::shrink_to_fit(self);
    }
}

/// The projections of the service account token volume every pod has.
impl ShrinkToFit for DownwardAPIProjection {
    fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
    }
}

impl ShrinkToFit for ConfigMapProjection {
    fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
    }
}

impl ShrinkToFit for SecretProjection {
    fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
    }
}

/// The k8s-openapi traits of a top-level kind, with the names, group,
/// version and scope of k8s-openapi's type of the same kind.
macro_rules! resource {
    ($($ty:ident => $upstream:ty;)*) => {
        $(
            impl k8s_openapi::Resource for $ty {
                const API_VERSION: &'static str = <$upstream as k8s_openapi::Resource>::API_VERSION;
                const GROUP: &'static str = <$upstream as k8s_openapi::Resource>::GROUP;
                const KIND: &'static str = <$upstream as k8s_openapi::Resource>::KIND;
                const VERSION: &'static str = <$upstream as k8s_openapi::Resource>::VERSION;
                const URL_PATH_SEGMENT: &'static str =
                    <$upstream as k8s_openapi::Resource>::URL_PATH_SEGMENT;
                type Scope = <$upstream as k8s_openapi::Resource>::Scope;
            }

            impl k8s_openapi::ListableResource for $ty {
                const LIST_KIND: &'static str =
                    <$upstream as k8s_openapi::ListableResource>::LIST_KIND;
            }

            impl k8s_openapi::Metadata for $ty {
                type Ty = ObjectMeta;
                fn metadata(&self) -> &ObjectMeta {
                    &self.metadata
                }
                fn metadata_mut(&mut self) -> &mut ObjectMeta {
                    &mut self.metadata
                }
            }
        )*
    };
}

resource! {
    Pod => k8s_openapi::api::core::v1::Pod;
    Event => k8s_openapi::api::core::v1::Event;
    PersistentVolume => k8s_openapi::api::core::v1::PersistentVolume;
    VolumeAttachment => k8s_openapi::api::storage::v1::VolumeAttachment;
    Deployment => k8s_openapi::api::apps::v1::Deployment;
    ReplicaSet => k8s_openapi::api::apps::v1::ReplicaSet;
    StatefulSet => k8s_openapi::api::apps::v1::StatefulSet;
    DaemonSet => k8s_openapi::api::apps::v1::DaemonSet;
    Job => k8s_openapi::api::batch::v1::Job;
    CronJob => k8s_openapi::api::batch::v1::CronJob;
}

#[cfg(test)]
mod tests;
