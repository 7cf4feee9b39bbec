//! What a CSI driver's own components run: the Kubernetes CSI sidecars,
//! known by their images. Read by the chain, to find a driver's
//! components, and by the live source, to read them from namespaces out of
//! the scope.

use crate::api::{Container, PodSpec};
use std::collections::BTreeMap;

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

/// What the image of every CSI component holds: a container runs one
/// only if its image names one of these.
pub fn image_markers() -> impl Iterator<Item = &'static str> {
    SIDECARS
        .iter()
        .copied()
        .chain(ALIASES.iter().map(|(alias, _)| *alias))
        .chain(["driver-registrar"])
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

/// Words of a driver name that say nothing about which driver it is.
const GENERIC: &[&str] = &[
    "csi",
    "driver",
    "k8s",
    "kubernetes",
    "io",
    "com",
    "org",
    "net",
    "storage",
    "x-k8s",
];

/// The leader-election lock name as the sidecars sanitise it: anything
/// outside `[a-zA-Z0-9-]` becomes `-`, and a trailing `-` gets an `X`.
pub fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.ends_with('-') {
        s.push('X');
    }
    s
}

/// The Lease a sidecar of `driver` holds while it leads.
pub fn lease_name(sidecar: &str, driver: &str) -> Option<String> {
    let d = sanitize(driver);
    match sidecar {
        "csi-provisioner" => Some(d),
        "csi-attacher" => Some(format!("external-attacher-leader-{d}")),
        "csi-resizer" => Some(format!("external-resizer-{d}")),
        "csi-snapshotter" => Some(format!("external-snapshotter-leader-{d}")),
        _ => None,
    }
}

/// The word of a driver name that tells it apart: `ebs` for
/// `ebs.csi.aws.com`, `vsphere` for `csi.vsphere.vmware.com`.
pub fn distinctive(driver: &str) -> Option<&str> {
    let last = driver.rsplit('/').next().unwrap_or(driver);
    last.split('.')
        .find(|w| w.len() >= 3 && !GENERIC.contains(&w.to_ascii_lowercase().as_str()))
}

/// Whether `text` names `driver` as a whole word (not inside a longer name).
fn mentions(text: &str, driver: &str) -> bool {
    if driver.is_empty() {
        return false;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(driver) {
        let start = from + i;
        let end = start + driver.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if !before.is_some_and(word) && !after.is_some_and(word) {
            return true;
        }
        from = end;
    }
    false
}

fn containers(spec: &PodSpec) -> impl Iterator<Item = &Container> {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
}

/// Whether a pod spec names the driver in a container's command, arguments
/// or environment (`--drivername=`, `--endpoint=…/<driver>/…`,
/// `--kubelet-registration-path=/var/lib/kubelet/plugins/<driver>/csi.sock`).
pub fn spec_names(spec: &PodSpec, driver: &str) -> bool {
    containers(spec).any(|c| {
        c.command
            .iter()
            .flatten()
            .chain(c.args.iter().flatten())
            .any(|a| mentions(a, driver))
            || c.env
                .iter()
                .flatten()
                .filter_map(|e| e.value.as_deref())
                .any(|v| mentions(v, driver))
    })
}

pub fn labels_name(labels: Option<&BTreeMap<String, String>>, driver: &str) -> bool {
    let Some(word) = distinctive(driver) else {
        return false;
    };
    let word = word.to_ascii_lowercase();
    labels.is_some_and(|l| {
        ["app.kubernetes.io/name", "app"]
            .iter()
            .filter_map(|k| l.get(*k))
            .any(|v| v.to_ascii_lowercase().contains(&word))
    })
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

    #[test]
    fn lease_names_follow_the_sidecars() {
        assert_eq!(sanitize("ebs.csi.aws.com"), "ebs-csi-aws-com");
        assert_eq!(sanitize("example.com/x."), "example-com-x-X");
        assert_eq!(
            lease_name("csi-attacher", "ebs.csi.aws.com").unwrap(),
            "external-attacher-leader-ebs-csi-aws-com"
        );
        assert_eq!(
            lease_name("csi-resizer", "pd.csi.storage.gke.io").unwrap(),
            "external-resizer-pd-csi-storage-gke-io"
        );
        assert_eq!(
            lease_name("csi-snapshotter", "ebs.csi.aws.com").unwrap(),
            "external-snapshotter-leader-ebs-csi-aws-com"
        );
        assert_eq!(
            lease_name("csi-provisioner", "rook-ceph.rbd.csi.ceph.com").unwrap(),
            "rook-ceph-rbd-csi-ceph-com"
        );
    }

    #[test]
    fn distinctive_words() {
        assert_eq!(distinctive("ebs.csi.aws.com"), Some("ebs"));
        assert_eq!(distinctive("csi.vsphere.vmware.com"), Some("vsphere"));
        assert_eq!(distinctive("driver.longhorn.io"), Some("longhorn"));
        assert!(mentions("--drivername=ebs.csi.aws.com", "ebs.csi.aws.com"));
        assert!(mentions(
            "/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock",
            "ebs.csi.aws.com"
        ));
        assert!(!mentions("ultradisk.csi.azure.com", "disk.csi.azure.com"));
        assert!(!mentions("", "x"));
    }
}
