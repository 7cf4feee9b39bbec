//! What the live suites (`tests/live.rs`, `tests/live_faults.rs`) share:
//! the control plane started by `scripts/live-cluster.sh` and running the
//! tool against it.

use super::rank::rank_one;
use assert_cmd::cargo::cargo_bin;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// No run of the tool may take longer, whatever the cluster does: a hang
/// fails the test instead of stalling the suite.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

pub struct Cluster {
    pub dir: PathBuf,
    kubectl: PathBuf,
}

/// One run of the tool.
pub struct Run {
    pub code: i32,
    /// stdout as JSON, `Null` when it is not JSON.
    pub report: Value,
    pub stderr: String,
}

impl Cluster {
    pub fn from_env() -> Cluster {
        let dir = PathBuf::from(std::env::var("STORAGE_DOCTOR_LIVE_DIR").expect(
            "STORAGE_DOCTOR_LIVE_DIR: the folder of a cluster started by scripts/live-cluster.sh",
        ));
        let kubectl = PathBuf::from(
            std::env::var("KUBECTL").expect("KUBECTL: set by sourcing the cluster's env file"),
        );
        Cluster { dir, kubectl }
    }

    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.kubeconfig"))
    }

    /// kubectl as `user`.
    pub fn kubectl_as(&self, user: &str) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg("--kubeconfig").arg(self.kubeconfig(user));
        cmd
    }

    /// kubectl as the admin; panics when it fails.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let out = self
            .kubectl_as("admin")
            .args(args)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn apply(&self, file: &Path) {
        self.kubectl(&["apply", "-f", file.to_str().unwrap()]);
    }

    /// `collect` as `user` with `args` into `file`; panics when it fails.
    pub fn collect(&self, user: &str, args: &[&str], file: &Path) {
        let out = Command::new(cargo_bin!("kubectl-storage_doctor"))
            .arg("--kubeconfig")
            .arg(self.kubeconfig(user))
            .arg("collect")
            .args(args)
            .arg("-f")
            .arg(file)
            .output()
            .expect("the tool runs");
        assert!(
            out.status.success(),
            "collect {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs the tool as `user` with `-o json`.
    pub fn doctor(&self, user: &str, args: &[&str]) -> Run {
        self.doctor_with(&self.kubeconfig(user), args)
    }

    /// Runs the tool with `kubeconfig` and `-o json`. Fails the test when a
    /// run outlives [`RUN_DEADLINE`], or when any token of the cluster's
    /// users or of `kubeconfig` shows on stdout or stderr.
    ///
    /// A diagnosis is run twice: from the API server's watch cache (the
    /// default) and with `--consistent`; both must find the same.
    pub fn doctor_with(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        let run = self.run_once(kubeconfig, args);
        if args.first().is_some_and(|a| *a == "collect") || args.contains(&"--consistent") {
            return run;
        }
        let consistent: Vec<&str> = args.iter().copied().chain(["--consistent"]).collect();
        let findings = |r: &Run| (r.code, rank_one(&r.report), r.report["summary"].clone());
        let again = self.run_once(kubeconfig, &consistent);
        if findings(&run) == findings(&again) {
            return run;
        }
        // The cluster may have moved between the two runs (a controller
        // acting): both once more, back to back, must agree.
        let run = self.run_once(kubeconfig, args);
        let again = self.run_once(kubeconfig, &consistent);
        assert_eq!(
            findings(&run),
            findings(&again),
            "{args:?}: the watch cache and a consistent read disagree:\n{}\n{}",
            run.stderr,
            again.stderr
        );
        run
    }

    /// Runs the tool once with `kubeconfig` and `-o json`: for faults that
    /// a second run would not meet.
    pub fn run_once(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        let mut child = Command::new(cargo_bin!("kubectl-storage_doctor"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .args(["-o", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > RUN_DEADLINE {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("kubectl-storage_doctor {args:?} still runs after {RUN_DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = stdout.join().unwrap();
        let stderr = stderr.join().unwrap();
        for secret in self.secrets(kubeconfig) {
            assert!(
                !stdout.contains(&secret) && !stderr.contains(&secret),
                "a token shows in the output of {args:?}:\n{stdout}\n{stderr}"
            );
        }
        Run {
            code: status.code().unwrap_or(-1),
            report: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stderr,
        }
    }

    /// The tokens of the cluster's users and the ones `kubeconfig` holds.
    fn secrets(&self, kubeconfig: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.join("pki")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "token") {
                out.push(std::fs::read_to_string(path).unwrap().trim().to_string());
            }
        }
        let config = std::fs::read_to_string(kubeconfig).unwrap_or_default();
        out.extend(config.lines().filter_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "token").then(|| value.trim().to_string())
        }));
        out.retain(|s| !s.is_empty());
        out
    }
}

fn drain(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        from.read_to_end(&mut buf).unwrap();
        String::from_utf8_lossy(&buf).into_owned()
    })
}
