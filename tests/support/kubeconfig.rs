//! Kubeconfig files of one cluster, one user and one context.

use std::path::{Path, PathBuf};

/// Writes `dir/kubeconfig` with one cluster, user and context, the
/// context's namespace `namespace`. `cluster` and `user` are the YAML of
/// their entries, e.g. `{server: 'https://127.0.0.1:6443'}` and
/// `{token: abc}`; the user entry is on line 12, the last line.
pub fn write(dir: &Path, cluster: &str, user: &str, namespace: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: test\n  cluster: {cluster}\ncontexts:\n- name: test\n  context: {{cluster: test, user: test, namespace: {namespace}}}\nusers:\n- name: test\n  user: {user}\n"
        ),
    )
    .unwrap();
    path
}
