//! scim2-tester's checks that apply to a read-only service (discovery and misc) against
//! the live scim-api, on both backends. The checker is Python, installed by
//! `cargo xtask test` (or `cargo xtask setup`) into `.venv` from
//! testing/scim-conformance/requirements.txt.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{Service, live_workspace};
use persistence::backend_tests;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let python = std::env::var_os("SPARK_SCIM_CONFORMANCE_PYTHON")
        .map_or_else(|| workspace().join(".venv/bin/python"), PathBuf::from);
    assert!(
        python.exists(),
        "scim2-tester is not installed at {}: run `cargo xtask setup` (`cargo xtask test` \
         does it first)",
        python.display()
    );
    python
}

backend_tests! {
    fn scim2_tester_discovery_and_misc_checks_pass(db) {
        let (_, token) = live_workspace(db, "acme");
        let service = Service::start(db);
        let port = service.addr.port();
        let out = Command::new(python())
            .arg(workspace().join("testing/scim-conformance/check.py"))
            .args([format!("http://127.0.0.1:{port}/scim/v2"), token, format!("acme.localhost:{port}")])
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "scim2-tester failed:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(report.contains(" 0 failed"), "{report}");
        assert!(report.contains("query_all_schemas"), "the discovery checks ran: {report}");
    }
}
