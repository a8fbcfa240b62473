//! The deployment files in deploy/ name the real binaries, ports, probe paths and
//! configuration keys: `deploy/check.py` parses every YAML document there and the
//! Dockerfiles and checks them against the sources. And they are valid in their formats:
//! `deploy/check_schemas.py` validates the Kubernetes manifests against the Kubernetes
//! API's schemas (bundled by the `kubernetes-validate` package) and compose.yaml against
//! the Compose Specification's (vendored in deploy/schemas/), offline. The checkers are
//! Python, in `.venv` from testing/scim-conformance/requirements.txt and
//! deploy/requirements.txt, which `cargo xtask test` installs. (Docker is not needed:
//! nothing is built or run.)

use std::path::PathBuf;
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let python = workspace().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the deploy/ checkers need Python with their packages at {}: run `cargo xtask setup` \
         (or `cargo xtask test`, which does it first)",
        python.display()
    );
    python
}

/// Runs a checker in deploy/; its report, once it passed.
fn checker(script: &str) -> String {
    let out = Command::new(python())
        .arg(workspace().join("deploy").join(script))
        .current_dir(workspace())
        .output()
        .expect("running a deploy/ checker");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let failures: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        out.status.success(),
        "deploy/{script} failed:\n{}\n\nfull report:\n{report}\n{}",
        failures.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" 0 failed"), "{report}");
    report
}

#[test]
fn deploy_files_name_the_real_binaries_ports_probes_and_config_keys() {
    let report = checker("check.py");
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

#[test]
fn deploy_files_are_valid_against_the_kubernetes_and_compose_schemas() {
    let report = checker("check_schemas.py");
    // Every manifest was validated, on more than one Kubernetes version.
    for seen in [
        "deploy/kubernetes/scim-api.yaml Deployment scim-api is valid",
        "deploy/kubernetes/scim-api.yaml HorizontalPodAutoscaler scim-api is valid",
        "deploy/kubernetes/auth-gateway.yaml Deployment auth-gateway is valid",
        "deploy/kubernetes/auth-gateway.yaml Service auth-gateway is valid",
        "deploy/kubernetes/config.yaml ConfigMap spark-config is valid",
        "deploy/kubernetes/ingress.yaml Ingress spark is valid",
        "deploy/kubernetes/migrate-job.yaml Job spark-migrate is valid",
        "deploy/compose.yaml is valid against the Compose Specification",
    ] {
        assert!(report.contains(seen), "not validated: {seen}\n{report}");
    }
    // The validators refuse broken copies of the real files.
    assert_eq!(report.matches(" is refused").count(), 4, "{report}");
}
