//! CSI migration: the in-tree volume plugins that Kubernetes hands to a
//! CSI driver, read by the rules (which driver a claim waits for) and by
//! the live source (which driver's components to look for).

/// In-tree provisioner → the CSI driver it was migrated to
/// (k8s.io/csi-translation-lib), and how that driver is usually installed.
const MIGRATED: &[(&str, &str, &str)] = &[
    (
        "kubernetes.io/aws-ebs",
        "ebs.csi.aws.com",
        "on EKS the managed add-on aws-ebs-csi-driver: aws eks create-addon --cluster-name <cluster> --addon-name aws-ebs-csi-driver --service-account-role-arn <role with AmazonEBSCSIDriverPolicy>; elsewhere the aws-ebs-csi-driver Helm chart (kubernetes-sigs/aws-ebs-csi-driver)",
    ),
    (
        "kubernetes.io/gce-pd",
        "pd.csi.storage.gke.io",
        "on GKE the Compute Engine persistent disk CSI driver add-on: gcloud container clusters update <cluster> --update-addons=GcePersistentDiskCsiDriver=ENABLED; elsewhere kubernetes-sigs/gcp-compute-persistent-disk-csi-driver",
    ),
    (
        "kubernetes.io/azure-disk",
        "disk.csi.azure.com",
        "on AKS the managed Azure Disk CSI driver: az aks update --name <cluster> --resource-group <rg> --enable-disk-driver; elsewhere the azuredisk-csi-driver Helm chart (kubernetes-sigs/azuredisk-csi-driver)",
    ),
    (
        "kubernetes.io/azure-file",
        "file.csi.azure.com",
        "on AKS the managed Azure Files CSI driver: az aks update --name <cluster> --resource-group <rg> --enable-file-driver; elsewhere the azurefile-csi-driver Helm chart (kubernetes-sigs/azurefile-csi-driver)",
    ),
    (
        "kubernetes.io/cinder",
        "cinder.csi.openstack.org",
        "the Cinder CSI plugin of cloud-provider-openstack (Helm chart openstack-cinder-csi)",
    ),
    (
        "kubernetes.io/vsphere-volume",
        "csi.vsphere.vmware.com",
        "the vSphere CSI driver (kubernetes-sigs/vsphere-csi-driver; on Tanzu and vSphere with Tanzu it is managed by the platform)",
    ),
];

/// The CSI driver an in-tree provisioner was migrated to.
pub fn migrated_driver(in_tree: &str) -> Option<&'static str> {
    MIGRATED
        .iter()
        .find(|(p, _, _)| *p == in_tree)
        .map(|(_, d, _)| *d)
}

/// How the CSI driver of a migrated in-tree plugin is installed.
pub fn install_hint(driver: &str) -> Option<&'static str> {
    MIGRATED
        .iter()
        .find(|(_, d, _)| *d == driver)
        .map(|(_, _, h)| *h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_in_tree_plugin_names_its_driver_and_install() {
        assert_eq!(
            migrated_driver("kubernetes.io/aws-ebs"),
            Some("ebs.csi.aws.com")
        );
        assert_eq!(migrated_driver("ebs.csi.aws.com"), None);
        for (_, d, _) in MIGRATED {
            assert!(install_hint(d).is_some());
        }
    }
}
