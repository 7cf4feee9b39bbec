//! What a CSI driver's own components run: the Kubernetes CSI sidecars,
//! known by their images. Read by the chain, to find a driver's
//! components, and by the live source, to read them from namespaces out of
//! the scope.

use crate::api::{Container, PodSpec};

/// The controller sidecars, by the last path element of their image.
pub const SIDECARS: &[&str] = &[
    "csi-provisioner",
    "csi-attacher",
    "csi-resizer",
    "csi-snapshotter",
];

/// `registry/path/csi-provisioner:v5.1.0@sha256:…` → `csi-provisioner`.
pub fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split(':').next().unwrap_or(last)
}

/// The same sidecars as some distributions name their images
/// (`eks-distro/kubernetes-csi/external-provisioner`).
const ALIASES: &[(&str, &str)] = &[
    ("external-provisioner", "csi-provisioner"),
    ("external-attacher", "csi-attacher"),
    ("external-resizer", "csi-resizer"),
];

/// The controller sidecar a container runs, if any.
pub fn sidecar_of(c: &Container) -> Option<&'static str> {
    let name = image_name(c.image.as_deref().unwrap_or(""));
    SIDECARS
        .iter()
        .copied()
        .find(|s| name.ends_with(s))
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| name.ends_with(alias))
                .map(|(_, s)| *s)
        })
}

/// Whether a container runs node-driver-registrar (or the legacy
/// driver-registrar).
pub fn is_registrar(c: &Container) -> bool {
    image_name(c.image.as_deref().unwrap_or("")).ends_with("driver-registrar")
}

/// Whether a pod template runs a CSI driver's controller or node plugin.
pub fn runs_csi_component(spec: &PodSpec) -> bool {
    spec.containers
        .iter()
        .any(|c| sidecar_of(c).is_some() || is_registrar(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_name_their_sidecar() {
        assert_eq!(
            image_name("registry.k8s.io/sig-storage/csi-provisioner:v5.1.0@sha256:abc"),
            "csi-provisioner"
        );
        assert_eq!(image_name("localhost:5000/csi-attacher"), "csi-attacher");
        let container = |image: &str| Container {
            name: "c".into(),
            image: Some(image.into()),
            ..Default::default()
        };
        let spec = |images: &[&str]| PodSpec {
            containers: images.iter().map(|i| container(i)).collect(),
            ..Default::default()
        };
        assert!(runs_csi_component(&spec(&[
            "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.30.0",
            "public.ecr.aws/eks-distro/kubernetes-csi/external-provisioner:v4.0.0",
        ])));
        assert!(runs_csi_component(&spec(&[
            "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.10.0"
        ])));
        assert!(!runs_csi_component(&spec(&["nginx:1.27", "busybox"])));
    }
}
