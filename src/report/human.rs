//! The human report: a summary table, then one block per finding with its
//! chain (broken links marked), ranked causes, evidence and fix.

use super::escape;
use super::{Finding, Report};
use crate::model::Severity;
use comfy_table::{presets, Cell, ContentArrangement, Table};
use owo_colors::{OwoColorize, Style};
use std::fmt::Write;

/// Colours, resolved once: plain styles when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Styles {
    pub enabled: bool,
}

impl Styles {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.enabled {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let style = match s {
            Severity::Critical => Style::new().bright_red().bold(),
            Severity::Error => Style::new().red().bold(),
            Severity::Warning => Style::new().yellow().bold(),
            Severity::Info => Style::new().cyan(),
        };
        self.paint(s.as_str(), style)
    }

    fn bold(&self, t: &str) -> String {
        self.paint(t, Style::new().bold())
    }

    fn dim(&self, t: &str) -> String {
        self.paint(t, Style::new().dimmed())
    }

    fn bad(&self, t: &str) -> String {
        self.paint(t, Style::new().red())
    }

    fn good(&self, t: &str) -> String {
        self.paint(t, Style::new().green())
    }
}

/// Layout settings for the human report.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub styles: Styles,
    /// Terminal width, when known.
    pub width: Option<u16>,
    /// `-o wide`: every evidence line and the objects of each cause.
    pub wide: bool,
}

/// Evidence lines shown per cause unless `-o wide`.
const EVIDENCE_LINES: usize = 5;

pub fn render(report: &Report, layout: Layout) -> String {
    let report = &report.escaped(|s| escape::terminal(s).into_owned());
    let st = layout.styles;
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{}: {} broken, {} warning(s), {} info, {} healthy of {} subject(s)\n{}",
        st.bold("kubectl storage-doctor"),
        s.broken,
        s.warnings,
        s.info,
        s.healthy,
        s.subjects,
        st.dim(&source_line(report))
    );
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} no storage problem found in {} subject(s).",
            st.good("✔"),
            s.subjects
        );
    } else {
        out.push('\n');
        out.push_str(&overview(report, layout));
        out.push('\n');
        for f in &report.findings {
            out.push('\n');
            finding_block(&mut out, f, layout);
        }
    }
    if let Some(healthy) = report.healthy.as_ref().filter(|h| !h.is_empty()) {
        let _ = writeln!(out, "\n{}", st.bold("Healthy:"));
        for o in healthy {
            let _ = writeln!(out, "  {} {o}", st.good("✔"));
        }
    }
    if !report.gaps.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            st.bold("Could not read (the diagnosis is less certain where it needed these):")
        );
        for g in &report.gaps {
            let _ = writeln!(
                out,
                "  {} {} ({}): {}",
                st.dim("-"),
                g.resource,
                g.reason,
                g.message
            );
        }
    }
    out
}

fn source_line(report: &Report) -> String {
    let src = &report.source;
    let mut parts = Vec::new();
    if src.kind == "live" {
        if let Some(c) = &src.context {
            parts.push(format!("context {c}"));
        }
        if let Some(v) = &src.server_version {
            parts.push(format!("server {v}"));
        }
    } else {
        parts.push(format!("input {}", src.paths.join(", ")));
        if let Some(t) = &src.captured_at {
            parts.push(format!("captured {t}"));
        }
    }
    if report.scope.all_namespaces {
        parts.push("all namespaces".to_string());
    } else {
        parts.push(format!("namespace {}", report.scope.namespaces.join(", ")));
    }
    parts.join(" · ")
}

fn subject_name(f: &Finding) -> String {
    let o = &f.subject;
    match &o.namespace {
        Some(ns) => format!("{} {ns}/{}", short_kind(&o.kind), o.name),
        None => format!("{} {}", short_kind(&o.kind), o.name),
    }
}

fn short_kind(kind: &str) -> &str {
    match kind {
        "PersistentVolumeClaim" => "pvc",
        "PersistentVolume" => "pv",
        "StorageClass" => "storageclass",
        "Pod" => "pod",
        "Node" => "node",
        "StatefulSet" => "statefulset",
        other => other,
    }
}

fn overview(report: &Report, layout: Layout) -> String {
    let st = layout.styles;
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["SEVERITY", "SUBJECT", "STATUS", "ROOT CAUSE"]);
    if let Some(w) = layout.width {
        table.set_width(w);
    }
    for f in &report.findings {
        let rule = f.causes.first().map(|c| c.rule).unwrap_or("");
        table.add_row([
            Cell::new(f.severity.as_str()),
            Cell::new(subject_name(f)),
            Cell::new(&f.status),
            Cell::new(rule),
        ]);
    }
    let text = table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if !st.enabled {
        return text + "\n";
    }
    // Colour the severity words after layout, so widths are computed on plain text.
    let mut coloured = String::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let word = trimmed.split_whitespace().next().unwrap_or("");
        let sev = [
            Severity::Critical,
            Severity::Error,
            Severity::Warning,
            Severity::Info,
        ]
        .into_iter()
        .find(|s| s.as_str() == word);
        match (i, sev) {
            (0, _) => coloured.push_str(&st.dim(line)),
            (_, Some(s)) => {
                let at = line.find(word).unwrap_or(0);
                coloured.push_str(&line[..at]);
                coloured.push_str(&st.severity(s));
                coloured.push_str(&line[at + word.len()..]);
            }
            _ => coloured.push_str(line),
        }
        coloured.push('\n');
    }
    coloured
}

/// Word-wraps `text` to `width` columns, the first line after `first`
/// and the next ones after `rest` (both already counted in the width).
fn wrapped(first: &str, rest: &str, text: &str, width: Option<u16>) -> String {
    let Some(width) = width
        .map(usize::from)
        .filter(|w| *w > rest.chars().count() + 20)
    else {
        return format!("{first}{text}");
    };
    let mut out = String::from(first);
    let mut col = first.chars().count();
    let mut line_start = true;
    for word in text.split(' ') {
        let len = word.chars().count();
        if !line_start && col + 1 + len > width {
            out.push('\n');
            out.push_str(rest);
            col = rest.chars().count();
            line_start = true;
        }
        if !line_start {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
        line_start = false;
    }
    out
}

/// One volume, its claim, mounts and fill: `data (persistentVolumeClaim
/// data-0; main:/data): 98 % of 10Gi used, inodes 1 %`.
pub fn volume_line(v: &super::VolumeInfo) -> String {
    use crate::quantity::binary;
    let percent = |used: u64, total: u64| {
        let p = (used as f64 / total as f64 * 1000.0 + 1e-6).floor() / 10.0;
        if p.fract() == 0.0 {
            format!("{p:.0} %")
        } else {
            format!("{p:.1} %")
        }
    };
    let mut what = vec![v.kind.clone()];
    if let Some(c) = &v.claim {
        what[0] = format!("{} {c}", v.kind);
    }
    if v.volume_mode.is_some() {
        what.push("block device".to_string());
    }
    if !v.mounts.is_empty() {
        what.push(v.mounts.join(", "));
    }
    let mut line = format!("{} ({})", v.name, what.join("; "));
    if let Some(u) = &v.usage {
        let mut parts = Vec::new();
        match (u.used_bytes, u.capacity_bytes) {
            (Some(used), Some(cap)) if cap > 0 => parts.push(format!(
                "{} of {} used ({})",
                binary(used),
                binary(cap),
                percent(used, cap)
            )),
            (Some(used), _) => parts.push(format!("{} used", binary(used))),
            _ => {}
        }
        if let (Some(used), Some(all)) = (u.inodes_used, u.inodes) {
            if all > 0 {
                parts.push(format!("inodes {}", percent(used, all)));
            }
        }
        if parts.is_empty() {
            parts.push("no numbers reported".to_string());
        }
        line = format!("{line}: {}", parts.join(", "));
    } else if let Some(note) = &v.usage_note {
        line = format!("{line}: {note}");
    }
    line
}

fn finding_block(out: &mut String, f: &Finding, layout: Layout) {
    let st = layout.styles;
    let w = layout.width;
    let _ = writeln!(
        out,
        "{} {}  {}",
        st.severity(f.severity),
        st.bold(&subject_name(f)),
        st.dim(&f.status)
    );
    let chain: Vec<String> = f
        .chain
        .iter()
        .map(|l| {
            let label = format!(
                "{} {} [{}]",
                short_kind(&l.object.kind),
                l.object.name,
                l.state
            );
            if l.ok {
                format!("{} {label}", st.good("✔"))
            } else {
                format!("{} {label}", st.bad("✖"))
            }
        })
        .collect();
    let _ = writeln!(out, "  {} {}", st.dim("chain:"), chain.join(" → "));
    if layout.wide && !f.volumes.is_empty() {
        let _ = writeln!(out, "  {}", st.dim("volumes:"));
        for v in &f.volumes {
            let _ = writeln!(out, "{}", wrapped("    - ", "      ", &volume_line(v), w));
        }
    }
    for c in &f.causes {
        let _ = writeln!(
            out,
            "  {}. {}  {}  {}",
            c.rank,
            st.bold(c.rule),
            st.dim(c.link.as_str()),
            st.dim(&format!("confidence {}", c.confidence.as_str()))
        );
        let _ = writeln!(out, "{}", wrapped("     ", "     ", &c.summary, w));
        if !c.evidence.is_empty() {
            let _ = writeln!(out, "     {}", st.dim("evidence:"));
            let shown = if layout.wide {
                c.evidence.len()
            } else {
                EVIDENCE_LINES
            };
            for e in c.evidence.iter().take(shown) {
                let _ = writeln!(out, "{}", wrapped("       - ", "         ", e, w));
            }
            if c.evidence.len() > shown {
                let more = format!("(+{} more: -o wide)", c.evidence.len() - shown);
                let _ = writeln!(out, "       {}", st.dim(&more));
            }
        }
        if layout.wide && !c.objects.is_empty() {
            let objects: Vec<String> = c.objects.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "     {}", st.dim("objects:"));
            let _ = writeln!(
                out,
                "{}",
                wrapped("       ", "       ", &objects.join(", "), w)
            );
        }
        if !c.fix.is_empty() {
            let _ = writeln!(out, "     {}", st.dim("fix:"));
            for x in &c.fix {
                let _ = writeln!(out, "{}", wrapped("       > ", "         ", x, w));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wrapped;

    #[test]
    fn wraps_at_the_width_with_a_hanging_indent() {
        let text = wrapped(
            "  - ",
            "    ",
            "one two three four five six seven eight nine ten eleven twelve",
            Some(30),
        );
        for line in text.lines() {
            assert!(line.chars().count() <= 30, "{line:?}");
        }
        assert!(
            text.lines().skip(1).all(|l| l.starts_with("    ")),
            "{text}"
        );
        assert_eq!(wrapped("- ", "  ", "a b", None), "- a b");
    }
}
