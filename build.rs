//! Build details for `--version`: the git commit (when git and the
//! repository are there; a build from a source archive has neither, and
//! that is no error) and the target triple.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo::rustc-env=STORAGE_DOCTOR_GIT_COMMIT={commit}");
        // Build again when HEAD moves (a commit, a checkout).
        for path in ["HEAD", "logs/HEAD"] {
            if let Some(file) = git(&["rev-parse", "--git-path", path]) {
                if std::path::Path::new(&file).exists() {
                    println!("cargo::rerun-if-changed={file}");
                }
            }
        }
    }
    if let Ok(target) = std::env::var("TARGET") {
        println!("cargo::rustc-env=STORAGE_DOCTOR_TARGET={target}");
    }
}
