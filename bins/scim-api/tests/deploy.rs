//! The deployment files in deploy/ name the real binaries, ports, probe paths and
//! configuration keys: `deploy/check.py` parses every YAML document there and the
//! Dockerfiles and checks them against the sources. The checker is Python with PyYAML,
//! installed by `.ci/run` into `.venv` from testing/scim-conformance/requirements.txt.
//! (Docker is not needed: nothing is built or run.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let python = workspace().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the deploy/ checker needs Python with PyYAML at {}: run `python3 -m venv .venv && \
         .venv/bin/pip install -r testing/scim-conformance/requirements.txt` (what .ci/run does)",
        python.display()
    );
    python
}

#[test]
fn deploy_files_name_the_real_binaries_ports_probes_and_config_keys() {
    let out = Command::new(python())
        .arg(workspace().join("deploy/check.py"))
        .current_dir(workspace())
        .output()
        .expect("running deploy/check.py");
    let report = String::from_utf8_lossy(&out.stdout);
    let failures: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        out.status.success(),
        "deploy/check.py failed:\n{}\n\nfull report:\n{report}\n{}",
        failures.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" 0 failed"), "{report}");
    // The checker really looked at each kind of file.
    for seen in [
        "Deployment scim-api",
        "Deployment auth-gateway",
        "Ingress",
        "Job",
        "deploy/compose.yaml",
        "deploy/Dockerfile.scim-api",
        "deploy/Dockerfile.auth-gateway",
    ] {
        assert!(
            report.contains(seen),
            "the checker did not check {seen}:\n{report}"
        );
    }
}
