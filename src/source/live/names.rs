//! Names for shell completion: the objects of one kind, the namespaces,
//! the kubeconfig's contexts. Metadata only, one page, and nothing on
//! error: a completion that fails offers nothing rather than an error.

use super::Connection;
use crate::kinds::Kind;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};

/// At most this many names are offered.
const NAMES: u32 = 500;

impl Connection {
    /// The names of the objects of `kind`: in `namespace` (the context's
    /// when `None`) or, with `all_namespaces`, in every one.
    pub async fn names(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> Vec<String> {
        let api_version = if kind.group.is_empty() {
            kind.version.to_string()
        } else {
            format!("{}/{}", kind.group, kind.version)
        };
        let resource = ApiResource {
            group: kind.group.to_string(),
            version: kind.version.to_string(),
            api_version,
            kind: kind.kind.to_string(),
            plural: kind.resource.to_string(),
        };
        let client = self.client.clone();
        let api: Api<DynamicObject> = if !kind.namespaced || all_namespaces {
            Api::all_with(client, &resource)
        } else {
            let ns = namespace.unwrap_or(&self.default_namespace);
            Api::namespaced_with(client, ns, &resource)
        };
        list_names(api.list_metadata(&ListParams::default().limit(NAMES)).await)
    }

    /// The names of the namespaces the user may list.
    pub async fn namespace_names(&self) -> Vec<String> {
        use k8s_openapi::api::core::v1::Namespace;
        let api: Api<Namespace> = Api::all(self.client.clone());
        list_names(api.list_metadata(&ListParams::default().limit(NAMES)).await)
    }
}

fn list_names<K: Clone>(
    list: kube::Result<kube::api::ObjectList<kube::core::PartialObjectMeta<K>>>,
) -> Vec<String> {
    let mut names: Vec<String> = list
        .map(|l| {
            l.items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The contexts of the kubeconfig (`--kubeconfig`, `KUBECONFIG`, or
/// `~/.kube/config`), by name.
pub fn context_names(kubeconfig: Option<&std::path::Path>) -> Vec<String> {
    super::load_kubeconfig(kubeconfig)
        .map(|k| k.contexts.into_iter().map(|c| c.name).collect())
        .unwrap_or_default()
}
