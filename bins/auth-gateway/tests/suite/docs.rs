//! docs/troubleshooting.md explains every code the sign-in path can show: a code added
//! to the source without a row in the table fails here.

#[test]
fn every_sign_in_code_is_in_the_troubleshooting_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/troubleshooting.md");
    let table = std::fs::read_to_string(path).unwrap();
    let missing: Vec<&str> = auth_gateway::ERROR_CODES
        .iter()
        .chain(oidc_client::ERROR_CODES.iter())
        .copied()
        .filter(|code| !table.contains(&format!("| `{code}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "add these codes to docs/troubleshooting.md: {missing:?}"
    );
}
