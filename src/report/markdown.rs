//! The Markdown report: ready to paste into a ticket or a runbook.

use super::escape::{markdown as md, markdown_code as code};
use super::{Finding, Report};
use std::fmt::Write;

/// Table cells cannot hold pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn subject(f: &Finding) -> String {
    let o = &f.subject;
    let name = match &o.namespace {
        Some(ns) => format!("{} {}/{}", md(&o.kind), md(ns), md(&o.name)),
        None => format!("{} {}", md(&o.kind), md(&o.name)),
    };
    match &f.replicas {
        Some(r) => format!(
            "{name} (+{} of {})",
            r.count - 1,
            md(&r.owner.kubectl_name())
        ),
        None => name,
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(out, "# Storage diagnosis\n");
    let source = match report.source.kind.as_str() {
        "live" => format!(
            "cluster {} ({}), context {}",
            md(report.source.server.as_deref().unwrap_or("?")),
            md(report
                .source
                .server_version
                .as_deref()
                .unwrap_or("unknown version")),
            md(report.source.context.as_deref().unwrap_or("?"))
        ),
        _ => format!(
            "capture {}, taken {}",
            md(&report.source.paths.join(", ")),
            md(report.source.captured_at.as_deref().unwrap_or("?"))
        ),
    };
    let _ = writeln!(
        out,
        "**{} broken**, {} warning(s), {} info, {} healthy of {} subject(s) — {source}\n",
        s.broken, s.warnings, s.info, s.healthy, s.subjects
    );
    if !report.findings.is_empty() {
        let _ = writeln!(
            out,
            "| Severity | Subject | Status | Root cause |\n|---|---|---|---|"
        );
        for f in &report.findings {
            let rule = f.causes.first().map(|c| c.rule).unwrap_or("");
            let _ = writeln!(
                out,
                "| {} | {} | {} | `{rule}` |",
                f.severity.as_str(),
                cell(&subject(f)),
                cell(&md(&f.status))
            );
        }
        out.push('\n');
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "## {}: {} ({})\n",
            f.severity.as_str(),
            subject(f),
            md(&f.status)
        );
        let (links, left_out) = super::chain_shown(&f.chain);
        let mut chain: Vec<String> = links
            .into_iter()
            .map(|l| {
                let mark = if l.ok { "✔" } else { "✖" };
                format!(
                    "{mark} `{} {}` ({})",
                    code(&l.object.kind),
                    code(&l.object.name),
                    md(&l.state)
                )
            })
            .collect();
        if left_out > 0 {
            chain.push(format!("✔ {left_out} more"));
        }
        if let Some(r) = &f.replicas {
            let pods: Vec<String> = r.pods.iter().map(|p| format!("`{}`", code(p))).collect();
            let _ = writeln!(
                out,
                "The same for {} pods of {}: {}\n",
                r.count,
                md(&r.owner.kubectl_name()),
                pods.join(", ")
            );
        }
        let _ = writeln!(out, "Chain: {}\n", chain.join(" → "));
        // With --usage: each volume's fill, for the ticket.
        if f.volumes
            .iter()
            .any(|v| v.usage.is_some() || v.usage_note.is_some())
        {
            let _ = writeln!(out, "**Volumes**\n");
            for v in &f.volumes {
                let _ = writeln!(out, "- {}", md(&super::human::volume_line(v)));
            }
            out.push('\n');
        }
        for c in &f.causes {
            let _ = writeln!(
                out,
                "### {}. `{}` — {}, confidence {}\n\n{}\n",
                c.rank,
                c.rule,
                c.link.as_str(),
                c.confidence.as_str(),
                md(&c.summary)
            );
            if !c.evidence.is_empty() {
                let _ = writeln!(out, "**Evidence**\n");
                for e in &c.evidence {
                    let _ = writeln!(out, "- {}", md(e));
                }
                out.push('\n');
            }
            if !c.fix.is_empty() {
                let _ = writeln!(out, "**Fix**\n");
                for x in &c.fix {
                    let _ = writeln!(out, "- {}", md(x));
                }
                out.push('\n');
            }
        }
    }
    if let Some(healthy) = &report.healthy {
        let _ = writeln!(out, "## Healthy\n");
        for o in healthy {
            let _ = writeln!(out, "- {}", md(&o.to_string()));
        }
        out.push('\n');
    }
    if !report.gaps.is_empty() {
        let _ = writeln!(out, "## Could not read\n");
        for g in &report.gaps {
            let _ = writeln!(
                out,
                "- `{}` ({}): {}",
                code(&g.resource),
                md(&g.reason),
                md(&g.message)
            );
        }
        out.push('\n');
    }
    out
}
