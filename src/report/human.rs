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
    /// The overview table's header row (off with `--no-headers`).
    pub headers: bool,
}

/// A report longer than this many lines (more than a screen) ends with its
/// summary line again.
const CLOSING_SUMMARY_AFTER: usize = 40;

/// Evidence lines shown per cause unless `-o wide`.
const EVIDENCE_LINES: usize = 5;

pub fn render(report: &Report, layout: Layout) -> String {
    let report = &report.escaped(|s| escape::terminal(s).into_owned());
    let st = layout.styles;
    let mut out = String::new();
    let s = &report.summary;
    let w = layout.width;
    let counts = format!(
        "{} broken, {} warning(s), {} info, {} healthy of {} subject(s)",
        s.broken, s.warnings, s.info, s.healthy, s.subjects
    );
    let first = format!("{}: ", st.bold("kubectl storage-doctor"));
    let summary_line = wrapped(&first, "  ", &counts, w);
    let _ = writeln!(out, "{summary_line}");
    for line in wrapped_units("", "  ", &source_line(report), " · ", w).lines() {
        let _ = writeln!(out, "{}", st.dim(line));
    }
    let hidden = report.hidden_findings();
    if report.findings.is_empty() && hidden == 0 {
        let _ = writeln!(
            out,
            "\n{} no storage problem found in {} subject(s).",
            st.good("✔"),
            s.subjects
        );
    } else {
        out.push('\n');
        if !report.findings.is_empty() {
            out.push_str(&overview(report, layout));
        }
        if hidden > 0 {
            let note = format!("{hidden} finding(s) below --min-severity not shown");
            let _ = writeln!(out, "{}", st.dim(&wrapped("", "", &note, w)));
        }
        if !report.findings.is_empty() {
            out.push('\n');
        }
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
    gaps(&mut out, report, layout);
    if out.lines().count() > CLOSING_SUMMARY_AFTER {
        let _ = writeln!(out, "\n{summary_line}");
    }
    out
}

/// What was read and in which scope, in parts to join with ` · `.
/// What could not be read, said once per reason in a sentence with what it
/// costs the diagnosis (from the kinds table), rather than the server's
/// words for each kind; `-o wide` adds them. A kind the server does not
/// serve, or a CRD not installed, is normal on many clusters: one quiet
/// line, unless a finding involves an object of that kind. JSON keeps
/// every gap as it was.
fn gaps(out: &mut String, report: &Report, layout: Layout) {
    let st = layout.styles;
    let w = layout.width;
    let involved = |kind: &str| {
        report.findings.iter().any(|f| {
            f.subject.kind == kind
                || f.chain.iter().any(|l| l.object.kind == kind)
                || f.causes
                    .iter()
                    .any(|c| c.objects.iter().any(|o| o.kind == kind))
        })
    };
    // Reason → the kinds of gaps that name kinds; the other gaps as they are.
    let mut by_reason: Vec<(&str, Vec<&'static crate::kinds::Kind>)> = Vec::new();
    let mut unserved: Vec<&str> = Vec::new();
    let mut other: Vec<&crate::snapshot::Gap> = Vec::new();
    for g in &report.gaps {
        let kinds: Option<Vec<&'static crate::kinds::Kind>> = g
            .resource
            .split(',')
            .map(|r| crate::kinds::ALL.iter().copied().find(|k| k.resource == r))
            .collect();
        let kinds = match kinds {
            Some(k) if !k.is_empty() && g.reason != "InvalidObject" && g.reason != "Truncated" => k,
            _ => {
                other.push(g);
                continue;
            }
        };
        let normal = matches!(g.reason.as_str(), "NotFound" | "NotInstalled");
        for kind in kinds {
            if normal && !involved(kind.kind) {
                unserved.push(kind.resource);
                continue;
            }
            match by_reason.iter_mut().find(|(r, _)| *r == g.reason) {
                Some((_, ks)) => ks.push(kind),
                None => by_reason.push((g.reason.as_str(), vec![kind])),
            }
        }
    }
    if !by_reason.is_empty() || !other.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            st.bold("Could not read (the diagnosis is less certain where it needed these):")
        );
    }
    for (reason, kinds) in &by_reason {
        let why = match *reason {
            "Forbidden" => "forbidden for this user".to_string(),
            "NotFound" => "not served by this server".to_string(),
            "NotInstalled" => "CRDs not installed".to_string(),
            "NotCaptured" => "not in the capture".to_string(),
            other => format!("the server answered {other}"),
        };
        let names: Vec<&str> = kinds.iter().map(|k| k.resource).collect();
        let costs: Vec<&str> = kinds.iter().map(|k| k.without).collect();
        let text = format!("{} ({why}), so {}.", and_list(&names), costs.join("; "));
        let _ = writeln!(
            out,
            "{}",
            wrapped(&format!("  {} ", st.dim("-")), "    ", &text, w)
        );
        // -o wide: what the server or the reader said, word for word.
        if layout.wide {
            for g in report.gaps.iter().filter(|g| g.reason == *reason) {
                let text = format!("{}: {}", g.resource, g.message);
                let _ = writeln!(out, "{}", st.dim(&wrapped("      ", "      ", &text, w)));
            }
        }
    }
    for g in &other {
        let text = format!("{} ({}): {}", g.resource, g.reason, g.message);
        let _ = writeln!(
            out,
            "{}",
            wrapped(&format!("  {} ", st.dim("-")), "    ", &text, w)
        );
    }
    if !unserved.is_empty() {
        let text = format!(
            "Not read, as usual on clusters without them, and no finding involves them: {} (not served or not installed).",
            and_list(&unserved)
        );
        let _ = writeln!(out, "\n{}", st.dim(&wrapped("", "", &text, w)));
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn source_line(report: &Report) -> Vec<String> {
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
    parts
}

fn subject_name(f: &Finding) -> String {
    let o = &f.subject;
    let name = match &o.namespace {
        Some(ns) => format!("{} {ns}/{}", short_kind(&o.kind), o.name),
        None => format!("{} {}", short_kind(&o.kind), o.name),
    };
    match &f.replicas {
        Some(r) => format!("{name} (+{} of {})", r.count - 1, r.owner.kubectl_name()),
        None => name,
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
        "Deployment" => "deployment",
        "ReplicaSet" => "replicaset",
        "DaemonSet" => "daemonset",
        "Job" => "job",
        other => other,
    }
}

/// The longest word of each cell of a column: its narrowest width that
/// breaks no name.
fn longest_word(cells: &[String]) -> u16 {
    cells
        .iter()
        .flat_map(|c| c.split_whitespace())
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
        .try_into()
        .unwrap_or(u16::MAX)
}

fn overview(report: &Report, layout: Layout) -> String {
    use comfy_table::{ColumnConstraint, Width};
    let st = layout.styles;
    let header = ["SEVERITY", "SUBJECT", "STATUS", "ROOT CAUSE"];
    let mut rows: Vec<[String; 4]> = report
        .findings
        .iter()
        .map(|f| {
            [
                f.severity.as_str().to_string(),
                subject_name(f),
                f.status.clone(),
                f.causes.first().map(|c| c.rule).unwrap_or("").to_string(),
            ]
        })
        .collect();
    // How the table fits the width: a severity or rule id is never split;
    // a subject or status wraps at spaces, never inside a word. Narrower,
    // STATUS goes (each finding's block repeats it); narrower still, a
    // subject breaks after its namespace's `/`; past that the table is
    // wider than the terminal rather than cut a name in two.
    let mut constraints = None;
    let mut fits = true;
    if let Some(w) = layout.width.map(usize::from) {
        let column = |rows: &[[String; 4]], i: usize| -> Vec<String> {
            std::iter::once(header[i].to_string())
                .filter(|_| layout.headers)
                .chain(rows.iter().map(|r| r[i].clone()))
                .collect()
        };
        let natural = |rows: &[[String; 4]], i: usize| -> usize {
            column(rows, i)
                .iter()
                .flat_map(|c| c.lines().map(|l| l.chars().count()).collect::<Vec<_>>())
                .max()
                .unwrap_or(0)
        };
        let least = |rows: &[[String; 4]], i: usize| usize::from(longest_word(&column(rows, i)));
        // Each column is padded by a space on either side.
        let total = |widths: &[usize]| -> usize { widths.iter().map(|n| n + 2).sum() };
        let (sev, rule) = (natural(&rows, 0), natural(&rows, 3));
        if total(&[sev, natural(&rows, 1), natural(&rows, 2), rule]) > w {
            let with_status = total(&[sev, least(&rows, 1), least(&rows, 2), rule]) <= w;
            if !with_status && total(&[sev, least(&rows, 1), rule]) > w {
                for row in &mut rows {
                    row[1] = row[1].replacen('/', "/\n", 1);
                }
            }
            fits = with_status || total(&[sev, least(&rows, 1), rule]) <= w;
            constraints = Some([
                ColumnConstraint::ContentWidth,
                ColumnConstraint::LowerBoundary(Width::Fixed(longest_word(&column(&rows, 1)))),
                if with_status {
                    ColumnConstraint::LowerBoundary(Width::Fixed(longest_word(&column(&rows, 2))))
                } else {
                    ColumnConstraint::Hidden
                },
                ColumnConstraint::ContentWidth,
            ]);
        }
    }
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(if fits {
            ContentArrangement::Dynamic
        } else {
            ContentArrangement::Disabled
        });
    if layout.headers {
        table.set_header(header);
    }
    for row in &rows {
        table.add_row(row.iter().map(Cell::new));
    }
    if let Some(w) = layout.width {
        table.set_width(w);
    }
    if let Some(c) = constraints {
        table.set_constraints(c);
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
            (0, _) if layout.headers => coloured.push_str(&st.dim(line)),
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

/// Columns `text` takes on a terminal: colour sequences take none.
fn visible_len(text: &str) -> usize {
    let mut n = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

/// Lines filled to a width, broken only at spaces (or between units),
/// never inside a word: a word longer than the line stands on its own.
struct Wrap<'a> {
    out: String,
    col: usize,
    width: Option<usize>,
    rest: &'a str,
    fresh: bool,
}

impl<'a> Wrap<'a> {
    /// Starts after `first`; next lines start with `rest` (both counted in
    /// the width). Too narrow a width to wrap sensibly is no wrapping.
    fn new(first: &str, rest: &'a str, width: Option<u16>) -> Self {
        let width = width
            .map(usize::from)
            .filter(|w| *w > visible_len(rest) + 20);
        Wrap {
            out: first.to_string(),
            col: visible_len(first),
            width,
            rest,
            fresh: true,
        }
    }

    fn fits(&self, len: usize) -> bool {
        self.width.is_none_or(|w| self.col + len <= w)
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.out.push_str(self.rest);
        self.col = visible_len(self.rest);
        self.fresh = true;
    }

    fn push(&mut self, text: &str) {
        self.out.push_str(text);
        self.col += visible_len(text);
        self.fresh = false;
    }

    /// Words separated by single spaces.
    fn words(&mut self, text: &str) {
        for word in text.split(' ') {
            if !self.fresh {
                if self.fits(1 + visible_len(word)) {
                    self.push(" ");
                } else {
                    self.newline();
                }
            }
            self.push(word);
        }
    }

    /// Units joined by `sep`, each kept on one line when it fits; a break
    /// between units ends the line with `sep` trimmed (`→`).
    fn units(&mut self, units: &[String], sep: &str) {
        for (i, unit) in units.iter().enumerate() {
            if i > 0 {
                if self.fits(visible_len(sep) + visible_len(unit)) {
                    self.push(sep);
                } else {
                    let mark = sep.trim_end();
                    self.out.push_str(mark);
                    self.newline();
                }
            }
            if self.fits(visible_len(unit)) {
                self.push(unit);
            } else {
                self.words(unit);
            }
        }
    }
}

/// Word-wraps `text` to `width` columns, the first line after `first`
/// and the next ones after `rest` (both already counted in the width).
fn wrapped(first: &str, rest: &str, text: &str, width: Option<u16>) -> String {
    let mut wrap = Wrap::new(first, rest, width);
    wrap.words(text);
    wrap.out
}

/// `units` joined by `sep`, wrapped between units where it can be.
fn wrapped_units(
    first: &str,
    rest: &str,
    units: &[String],
    sep: &str,
    width: Option<u16>,
) -> String {
    let mut wrap = Wrap::new(first, rest, width);
    wrap.units(units, sep);
    wrap.out
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
    let headline = [
        format!("{} {}", st.severity(f.severity), st.bold(&subject_name(f))),
        st.dim(&f.status),
    ];
    let _ = writeln!(out, "{}", wrapped_units("", "  ", &headline, "  ", w));
    if let Some(r) = &f.replicas {
        let first = format!(
            "  {} ",
            st.dim(&format!("{} pods of {}:", r.count, r.owner.kubectl_name()))
        );
        let _ = writeln!(out, "{}", wrapped_units(&first, "    ", &r.pods, ", ", w));
    }
    let (links, left_out) = super::chain_shown(&f.chain);
    let mut chain: Vec<String> = links
        .into_iter()
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
    if left_out > 0 {
        chain.push(format!("{} {left_out} more", st.good("✔")));
    }
    let first = format!("  {} ", st.dim("chain:"));
    let _ = writeln!(out, "{}", wrapped_units(&first, "    ", &chain, " → ", w));
    if layout.wide && !f.volumes.is_empty() {
        let _ = writeln!(out, "  {}", st.dim("volumes:"));
        for v in &f.volumes {
            let _ = writeln!(out, "{}", wrapped("    - ", "      ", &volume_line(v), w));
        }
    }
    if layout.wide && !f.nodes.is_empty() {
        let _ = writeln!(out, "  {}", st.dim("nodes:"));
        for n in &f.nodes {
            let _ = writeln!(
                out,
                "{}",
                wrapped("    - ", "      ", &nodes::node_line(n), w)
            );
        }
        if f.nodes_omitted > 0 {
            let more = format!("(+{} nodes in further rows: -o json)", f.nodes_omitted);
            let _ = writeln!(out, "    {}", st.dim(&more));
        }
    }
    for c in &f.causes {
        let headline = [
            format!("{}. {}", c.rank, st.bold(c.rule)),
            st.dim(c.link.as_str()),
            st.dim(&format!("confidence {}", c.confidence.as_str())),
        ];
        let _ = writeln!(out, "{}", wrapped_units("  ", "     ", &headline, "  ", w));
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

mod nodes;

#[cfg(test)]
mod tests;
