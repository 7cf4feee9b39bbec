//! The krew manifest (`plugin.yaml`) and its krew-release-bot template
//! (`.krew.yaml`): every rule krew's index checks, the version of this
//! crate, and — for each archive `scripts/release.sh` left in `dist/` — the
//! sha256 of that very file and the files it must hold, and for a macOS
//! one the checks `scripts/check-macho.py` makes of its binary. The
//! template and plugin.yaml have every release platform.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const HOMEPAGE: &str = "https://github.com/storage-doctor/kubectl-storage-doctor";
const BIN: &str = "kubectl-storage_doctor";
const PLATFORMS: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Plugin {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Spec {
    version: String,
    homepage: String,
    short_description: String,
    description: String,
    caveats: String,
    platforms: Vec<Platform>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Platform {
    selector: Selector,
    uri: String,
    sha256: String,
    bin: String,
    files: Vec<FileOperation>,
}

/// Only `matchLabels`: a `matchExpressions` could make two platforms overlap.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOperation {
    from: String,
    to: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    let path = root().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn manifest() -> Plugin {
    serde_yaml_ng::from_str(&read("plugin.yaml")).expect("plugin.yaml is a krew Plugin")
}

/// The platform's `(os, arch)`; panics unless its selector is exactly those two labels.
fn os_arch(p: &Platform) -> (&str, &str) {
    let labels = &p.selector.match_labels;
    assert_eq!(
        labels.keys().map(String::as_str).collect::<Vec<_>>(),
        ["arch", "os"],
        "{}: a selector of os and arch labels only",
        p.uri
    );
    (labels["os"].as_str(), labels["arch"].as_str())
}

/// The sha256 of a file, by the system's own tool.
fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .or_else(|_| {
            Command::new("shasum")
                .args(["-a", "256"])
                .arg(path)
                .output()
        })
        .expect("sha256sum or shasum");
    assert!(out.status.success(), "hashing {}", path.display());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_string()
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[test]
fn plugin_names_this_crate_and_its_version() {
    let m = manifest();
    assert_eq!(
        m.api_version,
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m.kind, "Plugin");
    assert_eq!(m.metadata.name, "storage-doctor");
    assert_eq!(m.spec.version, tag());
    assert_eq!(m.spec.homepage, HOMEPAGE);
}

#[test]
fn descriptions_fit_krew_listings() {
    let spec = manifest().spec;
    let short = &spec.short_description;
    assert!(!short.is_empty() && !short.contains('\n'), "{short:?}");
    assert!(
        short.chars().count() <= 50,
        "{short:?} is over 50 characters"
    );
    for (field, text) in [
        ("description", &spec.description),
        ("caveats", &spec.caveats),
    ] {
        assert!(!text.trim().is_empty(), "{field} is empty");
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{field}: a line over 80 columns: {line:?}"
            );
        }
    }
}

#[test]
fn platforms_are_released_ones_without_overlap() {
    let m = manifest();
    let mut seen = BTreeSet::new();
    for p in &m.spec.platforms {
        let platform = os_arch(p);
        assert!(seen.insert(platform), "{platform:?} twice");
    }
    let all = BTreeSet::from(PLATFORMS);
    assert!(
        seen.is_subset(&all),
        "{:?} are no release platforms",
        seen.difference(&all)
    );
    let missing: BTreeSet<_> = all.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "plugin.yaml lacks {missing:?}: build every archive, then scripts/release.sh manifest"
    );
}

#[test]
fn each_platform_downloads_an_archive_of_this_version_with_the_binary() {
    let m = manifest();
    let tag = tag();
    for p in &m.spec.platforms {
        let (os, arch) = os_arch(p);
        let windows = os == "windows";
        let (ext, exe) = if windows {
            ("zip", ".exe")
        } else {
            ("tar.gz", "")
        };
        assert_eq!(
            p.uri,
            format!("{HOMEPAGE}/releases/download/{tag}/{BIN}-{tag}-{os}-{arch}.{ext}")
        );
        assert!(
            is_sha256(&p.sha256),
            "{os}/{arch}: {:?} is no sha256",
            p.sha256
        );
        assert_eq!(p.bin, format!("{BIN}{exe}"), "{os}/{arch}");
        assert_eq!(p.bin.ends_with(".exe"), windows, "{os}/{arch}: {}", p.bin);
        let from: BTreeSet<&str> = p.files.iter().map(|f| f.from.as_str()).collect();
        assert!(
            from.contains(p.bin.as_str()) && from.contains("LICENSE"),
            "{os}/{arch}: files {from:?} lack the binary or LICENSE"
        );
        assert!(p.files.iter().all(|f| f.to == "."), "{os}/{arch}");
    }
}

/// Renders the template as krew-release-bot does, each `addURIAndSha` taking
/// the sha256 plugin.yaml gives for its uri; like `scripts/release.sh
/// manifest --partial`, leaves out the platform entries (from `  - selector:`
/// to the next line indented less than four spaces) plugin.yaml has no uri for.
fn render_template(template: &str, tag: &str, sha_of_uri: &BTreeMap<&str, &str>) -> String {
    const OPEN: &str = "{{addURIAndSha \"";
    const CLOSE: &str = "\" .TagName }}";
    let mut out = String::new();
    let mut entry = String::new();
    let mut drop = false;
    for line in template.lines() {
        let line = line.replace("{{ .TagName }}", tag);
        if line == "  - selector:" || !line.starts_with("    ") {
            if !drop {
                out.push_str(&entry);
            }
            entry.clear();
            drop = false;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        match line.trim_start().strip_prefix(OPEN) {
            Some(rest) => {
                let uri = rest
                    .strip_suffix(CLOSE)
                    .unwrap_or_else(|| panic!("an addURIAndSha line of another form: {line}"));
                match sha_of_uri.get(uri) {
                    Some(sha) => {
                        entry.push_str(&format!("{indent}uri: {uri}\n{indent}sha256: {sha}\n"))
                    }
                    None => drop = true,
                }
            }
            None => {
                assert!(!line.contains("{{"), "an unknown template action: {line}");
                entry.push_str(&line);
                entry.push('\n');
            }
        }
    }
    if !drop {
        out.push_str(&entry);
    }
    out
}

#[test]
fn plugin_yaml_is_the_rendered_release_bot_template() {
    let template = read(".krew.yaml");
    assert!(
        template.contains("  version: {{ .TagName }}\n"),
        "the template takes its version from the tag"
    );
    for (os, arch) in PLATFORMS {
        let ext = if os == "windows" { "zip" } else { "tar.gz" };
        let uri = format!(
            "/releases/download/{{{{ .TagName }}}}/{BIN}-{{{{ .TagName }}}}-{os}-{arch}.{ext}\""
        );
        assert_eq!(
            template.matches(&uri).count(),
            1,
            "{os}/{arch} in .krew.yaml"
        );
    }
    let uris = template.matches("{{addURIAndSha \"").count();
    assert_eq!(uris, PLATFORMS.len(), "one addURIAndSha per platform");
    assert_eq!(
        template
            .matches("/releases/download/{{ .TagName }}/")
            .count(),
        uris,
        "every archive is the tag's release asset"
    );

    let plugin = read("plugin.yaml");
    let m = manifest();
    let sha_of_uri = m
        .spec
        .platforms
        .iter()
        .map(|p| (p.uri.as_str(), p.sha256.as_str()))
        .collect();
    assert_eq!(
        render_template(&template, &tag(), &sha_of_uri),
        plugin,
        "plugin.yaml differs from .krew.yaml rendered: run scripts/release.sh manifest"
    );
}

/// The names of the files in a `.tar.gz` or `.zip`, by the system's own tools.
fn archive_entries(path: &Path) -> BTreeSet<String> {
    let out = if path.extension().is_some_and(|e| e == "zip") {
        Command::new("unzip").arg("-Z1").arg(path).output()
    } else {
        Command::new("tar").arg("-tzf").arg(path).output()
    }
    .expect("tar and unzip");
    assert!(out.status.success(), "listing {}", path.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn archives_in_dist_match_their_sha256_and_hold_the_files() {
    let dist = root().join("dist");
    for p in &manifest().spec.platforms {
        let name = p.uri.rsplit('/').next().unwrap();
        let archive = dist.join(name);
        if !archive.is_file() {
            continue;
        }
        assert_eq!(
            sha256_of(&archive),
            p.sha256,
            "dist/{name} is not the archive plugin.yaml names: run scripts/release.sh manifest"
        );
        let entries = archive_entries(&archive);
        for f in &p.files {
            assert!(entries.contains(&f.from), "dist/{name} lacks {}", f.from);
        }
    }
}

/// The minimum macOS version scripts/release.sh sets for each darwin arch.
fn macos_min(arch: &str) -> (&'static str, &'static str) {
    match arch {
        "arm64" => ("arm64", "11.0"),
        "amd64" => ("x86_64", "10.12"),
        _ => panic!("no darwin arch {arch}"),
    }
}

#[test]
fn macos_binaries_in_dist_are_signed_system_only_executables() {
    let dist = root().join("dist");
    for p in &manifest().spec.platforms {
        let (os, arch) = os_arch(p);
        let name = p.uri.rsplit('/').next().unwrap();
        let archive = dist.join(name);
        if os != "darwin" || !archive.is_file() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(dir.path())
            .arg(BIN)
            .status()
            .expect("tar");
        assert!(status.success(), "extracting {BIN} from dist/{name}");
        let (macho_arch, minos) = macos_min(arch);
        let out = Command::new("python3")
            .arg(root().join("scripts/check-macho.py"))
            .arg(dir.path().join(BIN))
            .args(["--arch", macho_arch, "--minos", minos])
            .output()
            .expect("python3 runs scripts/check-macho.py");
        assert!(
            out.status.success(),
            "dist/{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
