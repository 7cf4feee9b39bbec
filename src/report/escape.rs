//! Text from the cluster is data, never commands for the reader's terminal
//! or Markdown viewer. The human, wide and Markdown reports (and stderr)
//! show control and bidi-override characters escaped, as kubectl shows ESC
//! as `^[`; JSON and YAML keep the text exact.

use super::{ChainLink, Finding, NodeRow, RankedCause, Replicas, Report, VolumeInfo};
use crate::model::ObjectRef;
use crate::snapshot::Gap;

pub use crate::text::terminal;

/// `s` safe to paste into Markdown: no HTML tag or autolink (every `<`
/// escaped, our own `<pod>` placeholders included), no inline link or image
/// (`](` broken), no code span; controls escaped.
pub fn markdown(s: &str) -> String {
    terminal(s)
        .replace('<', "&lt;")
        .replace("](", "]\\(")
        .replace('`', "\\`")
}

/// Text for inside a Markdown code span: escaped for the terminal, with
/// backticks (which would end the span) replaced.
pub fn markdown_code(s: &str) -> String {
    terminal(s).replace('`', "'")
}

impl Report {
    /// The same report with every text from the cluster passed through
    /// `escape`: what the human and Markdown renderers show.
    pub fn escaped(&self, escape: impl Fn(&str) -> String) -> Report {
        let object = |o: &ObjectRef| ObjectRef {
            kind: escape(&o.kind),
            namespace: o.namespace.as_deref().map(&escape),
            name: escape(&o.name),
        };
        let lines = |v: &[String]| v.iter().map(|l| escape(l)).collect();
        let mut r = self.clone();
        r.source.context = self.source.context.as_deref().map(&escape);
        r.source.server = self.source.server.as_deref().map(&escape);
        r.source.server_version = self.source.server_version.as_deref().map(&escape);
        r.source.paths = lines(&self.source.paths);
        r.scope.namespaces = lines(&self.scope.namespaces);
        r.scope.targets = lines(&self.scope.targets);
        r.gaps = self
            .gaps
            .iter()
            .map(|g| Gap {
                resource: escape(&g.resource),
                reason: escape(&g.reason),
                message: escape(&g.message),
            })
            .collect();
        r.findings = self
            .findings
            .iter()
            .map(|f| Finding {
                subject: object(&f.subject),
                severity: f.severity,
                status: escape(&f.status),
                chain: f
                    .chain
                    .iter()
                    .map(|l| ChainLink {
                        object: object(&l.object),
                        state: escape(&l.state),
                        ok: l.ok,
                    })
                    .collect(),
                causes: f
                    .causes
                    .iter()
                    .map(|c| RankedCause {
                        objects: c.objects.iter().map(object).collect(),
                        summary: escape(&c.summary),
                        evidence: lines(&c.evidence),
                        fix: lines(&c.fix),
                        ..c.clone()
                    })
                    .collect(),
                volumes: f
                    .volumes
                    .iter()
                    .map(|v| VolumeInfo {
                        name: escape(&v.name),
                        kind: escape(&v.kind),
                        claim: v.claim.as_deref().map(&escape),
                        mounts: lines(&v.mounts),
                        ..v.clone()
                    })
                    .collect(),
                replicas: f.replicas.as_ref().map(|r| Replicas {
                    owner: object(&r.owner),
                    count: r.count,
                    pods: lines(&r.pods),
                }),
                nodes: f
                    .nodes
                    .iter()
                    .map(|n| NodeRow {
                        name: escape(&n.name),
                        count: n.count,
                        others: lines(&n.others),
                        volumes_allow: n.volumes_allow,
                        volume_reasons: lines(&n.volume_reasons),
                        ruled_out_by: lines(&n.ruled_out_by),
                    })
                    .collect(),
                nodes_omitted: f.nodes_omitted,
            })
            .collect();
        r.healthy = self
            .healthy
            .as_ref()
            .map(|h| h.iter().map(object).collect());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::borrow::Cow;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_shown_not_obeyed() {
        let hostile = "ok\u{1b}]0;title\u{7}\u{1b}[2J\u{1b}[H\r\u{9b}31m\u{202E}gnp.exe\u{7f}";
        let shown = terminal(hostile);
        assert_eq!(
            shown,
            "ok^[]0;title^G^[[2J^[[H^M<U+009B>31m<U+202E>gnp.exe^?"
        );
        assert!(!shown.chars().any(crate::text::needs_escape));
        assert!(matches!(terminal("plain text é"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_message_of_several_lines_is_shown_on_one() {
        let kubelet = "MountVolume.MountDevice failed: mount failed: exit status 32\r\nMounting command: mount\n\tOutput: mount: wrong fs type\n";
        assert_eq!(
            terminal(kubelet),
            "MountVolume.MountDevice failed: mount failed: exit status 32 ⏎ Mounting command: mount ⏎ Output: mount: wrong fs type"
        );
        assert_eq!(terminal("a\tb\rc"), "a b^Mc");
    }

    #[test]
    fn markdown_has_no_html_or_links() {
        assert_eq!(
            markdown("<img src=x onerror=alert(1)> [click](https://evil) `x`"),
            "&lt;img src=x onerror=alert(1)> [click]\\(https://evil) \\`x\\`"
        );
        assert_eq!(markdown_code("a`b\u{1b}"), "a'b^[");
    }
}
