//! docs/troubleshooting.md explains every SCIM error scim-api can answer: every
//! `scimType` the service or the filter language emits, and every status it refuses with.

use std::collections::BTreeSet;
use std::path::Path;

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_scim_error_is_in_the_troubleshooting_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let table = std::fs::read_to_string(root.join("docs/troubleshooting.md")).unwrap();
    let mut code = String::new();
    for dir in ["bins/scim-api/src", "crates/scim-filter/src"] {
        sources(&root.join(dir), &mut code);
    }
    // `ScimType::InvalidFilter` -> `invalidFilter`; plus the search-body error.
    let mut types: BTreeSet<String> = BTreeSet::from(["invalidSyntax".to_owned()]);
    for (i, _) in code.match_indices("ScimType::") {
        let name: String = code[i + 10..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if let Some(first) = name.chars().next().filter(char::is_ascii_uppercase) {
            types.insert(format!("{}{}", first.to_ascii_lowercase(), &name[1..]));
        }
    }
    assert!(
        types.contains("invalidFilter") && types.contains("expiredCursor"),
        "{types:?}"
    );
    let missing: Vec<&String> = types
        .iter()
        .filter(|t| !table.contains(&format!("| `400 {t}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "add these scimTypes to docs/troubleshooting.md: {missing:?}"
    );
    for status in [
        "401", "403", "404", "405", "413", "429", "500", "501", "503",
    ] {
        assert!(
            table.contains(&format!("| `{status}` |")),
            "status {status} is not in the table"
        );
    }
}
