//! The layering rules of ARCHITECTURE.md, checked from each package's Cargo.toml:
//! dependencies point down only, and each external crate stays in the layer that owns it.
//! Also one rule of the test suite, from the sources: a test is ignored only because it
//! needs PostgreSQL (`cargo xtask test` runs the ignored tests exactly when PostgreSQL
//! answers, so an ignore for any other reason would be run, or hidden, by surprise). And
//! no import circles between the files of a package (`circles`): a module that needs
//! another's names never also lends it its own.

mod circles;
mod sources;

use std::path::Path;

use crate::Result;
use sources::rust_files;

/// Why a test may be ignored: `cargo xtask test` runs the ignored tests exactly when
/// PostgreSQL answers.
pub const NEEDS_POSTGRES: &str = "needs PostgreSQL";

/// Internal crates each library may depend on (bins and xtask may use any).
const ALLOWED_INTERNAL: &[(&str, &[&str])] = &[
    ("bounded-map", &[]),
    ("scim-model", &[]),
    ("scim-filter", &["scim-model"]),
    ("token-store", &[]),
    ("settings", &[]),
    ("oidc-client", &["bounded-map", "token-store"]),
    ("persistence", &["scim-model", "scim-filter", "token-store"]),
    ("web-runtime", &["persistence"]),
];

/// External crates and the only packages that may name them.
const OWNED_EXTERNAL: &[(&str, &[&str])] = &[
    ("diesel", &["persistence"]),
    ("diesel_migrations", &["persistence"]),
    ("libsqlite3-sys", &["persistence"]),
    ("actix-web", &["scim-api", "auth-gateway", "web-runtime"]),
    ("clap", &["scim-api", "auth-gateway", "sparkctl"]),
    (
        "tracing-subscriber",
        &["scim-api", "auth-gateway", "sparkctl", "web-runtime"],
    ),
    ("anyhow", &["scim-api", "auth-gateway", "sparkctl"]),
    ("openidconnect", &["oidc-client"]),
    // The outbound HTTP client (to Okta); tests may use it as a dev-dependency anywhere.
    ("reqwest", &["oidc-client"]),
    ("aes-gcm", &["token-store"]),
];

/// Crates that do IO, which the pure libraries must not use.
const IO_CRATES: &[&str] = &["tokio", "reqwest", "actix-web", "diesel", "hyper"];
const PURE_LIBRARIES: &[&str] = &["bounded-map", "scim-model", "scim-filter", "token-store"];

/// A package's name and the names in its `[dependencies]` table.
struct Manifest {
    name: String,
    dependencies: Vec<String>,
}

fn read_manifest(path: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut name = None;
    let mut section = String::new();
    let mut dependencies = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        match section.as_str() {
            "package" if key == "name" => name = Some(value.trim().trim_matches('"').to_owned()),
            "dependencies" => {
                let dep = key.split('.').next().unwrap_or(key).trim_matches('"');
                dependencies.push(dep.to_owned());
            }
            _ => {}
        }
    }
    let name = name.ok_or_else(|| format!("{}: no package name", path.display()))?;
    Ok(Manifest { name, dependencies })
}

/// Checks every member under `crates/`, `bins/` and `xtask/`.
pub fn check(root: &Path) -> Result {
    let mut manifests = Vec::new();
    let mut problems = Vec::new();
    let internal: Vec<&str> = ALLOWED_INTERNAL.iter().map(|(name, _)| *name).collect();
    for folder in ["crates", "bins"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path().join("Cargo.toml");
            if path.is_file() {
                let manifest = read_manifest(&path)?;
                if folder == "crates" && !internal.contains(&manifest.name.as_str()) {
                    problems.push(format!(
                        "the library {} has no place in tidy's ALLOWED_INTERNAL",
                        manifest.name
                    ));
                }
                manifests.push(manifest);
            }
        }
    }
    for m in &manifests {
        let library_rule = ALLOWED_INTERNAL.iter().find(|(name, _)| *name == m.name);
        for dep in &m.dependencies {
            if let Some((_, allowed)) = library_rule
                && internal.contains(&dep.as_str())
                && !allowed.contains(&dep.as_str())
            {
                problems.push(format!(
                    "{} must not depend on {dep} (dependencies point down only)",
                    m.name
                ));
            }
            if let Some((_, owners)) = OWNED_EXTERNAL.iter().find(|(name, _)| name == dep)
                && !owners.contains(&m.name.as_str())
            {
                problems.push(format!(
                    "{} must not use {dep}; only {} may",
                    m.name,
                    owners.join(", ")
                ));
            }
            if PURE_LIBRARIES.contains(&m.name.as_str()) && IO_CRATES.contains(&dep.as_str()) {
                problems.push(format!("{} does no IO and must not use {dep}", m.name));
            }
        }
    }
    if manifests.is_empty() {
        problems.push("no packages found under crates/ and bins/".into());
    }
    problems.extend(ignored_for_other_reasons(root));
    problems.extend(
        circles::import_circles(root)
            .into_iter()
            .map(|circle| format!("an import circle: {circle} (see ARCHITECTURE.md)")),
    );
    if problems.is_empty() {
        println!(
            "tidy: the layering rules hold for {} packages",
            manifests.len()
        );
        Ok(())
    } else {
        Err(format!("tidy: {}", problems.join("; ")))
    }
}

/// Every `#[ignore …]` in the Rust sources under crates/ and bins/ that does not say
/// `#[ignore = "needs PostgreSQL"]`, as `file:line: …`.
fn ignored_for_other_reasons(root: &Path) -> Vec<String> {
    let allowed = format!("#[ignore = \"{NEEDS_POSTGRES}\"]");
    let mut files = Vec::new();
    for folder in ["crates", "bins"] {
        rust_files(&root.join(folder), &mut files);
    }
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with("#[ignore") && line != allowed {
                let shown = file.strip_prefix(root).unwrap_or(&file);
                problems.push(format!(
                    "{}:{}: `{line}`: a test may be ignored only as `{allowed}`",
                    shown.display(),
                    n + 1
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, package: &str, deps: &str) {
        let folder = dir.join("crates").join(package);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("Cargo.toml"),
            format!("[package]\nname = \"{package}\"\n\n[dependencies]\n{deps}\n[dev-dependencies]\ndiesel = \"2\"\n"),
        )
        .unwrap();
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_real_workspace_is_tidy() {
        check(&crate::workspace_root()).unwrap();
    }

    #[test]
    fn upward_dependencies_and_misplaced_crates_are_caught() {
        let dir = scratch("bad");
        write(&dir, "scim-model", "scim-filter.workspace = true\n");
        write(&dir, "token-store", "tokio = \"1\"\n");
        write(&dir, "settings", "diesel.workspace = true\n");
        let err = check(&dir).unwrap_err();
        assert!(
            err.contains("scim-model must not depend on scim-filter"),
            "{err}"
        );
        assert!(
            err.contains("token-store does no IO and must not use tokio"),
            "{err}"
        );
        assert!(
            err.contains("settings must not use diesel; only persistence may"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tests_are_ignored_only_for_needing_postgres() {
        let dir = scratch("ignore");
        write(&dir, "scim-model", "");
        let tests = dir.join("crates/scim-model/tests");
        std::fs::create_dir_all(&tests).unwrap();
        std::fs::write(
            tests.join("a.rs"),
            "#[test]\n#[ignore = \"needs PostgreSQL\"]\nfn a() {}\n#[test]\n#[ignore]\nfn slow() {}\n",
        )
        .unwrap();
        let err = check(&dir).unwrap_err();
        assert!(err.contains("tests/a.rs:5: `#[ignore]`"), "{err}");
        assert!(!err.contains("a.rs:2"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_new_import_circle_inside_a_package_is_caught() {
        let dir = scratch("circles");
        write(&dir, "scim-model", "");
        let src = dir.join("crates/scim-model/src");
        std::fs::create_dir_all(src.join("admin")).unwrap();
        let files = [
            (
                "lib.rs",
                "mod a;\nmod b;\nmod c;\nmod admin;\npub use a::Thing;\n",
            ),
            // a → b through a grouped `use`, b → a through a re-export of the root.
            ("a.rs", "use crate::b::{self, Other};\npub struct Thing;\n"),
            ("b.rs", "pub struct Other(crate::Thing);\n"),
            // c names a only in prose and in its unit tests: no arrow.
            (
                "c.rs",
                "//! Unlike crate::a::Thing.\npub fn c() {}\n#[cfg(test)]\nmod tests {\n    use crate::a::Thing;\n}\n",
            ),
            // A parent that routes to its child, and a child that uses its parent.
            (
                "admin/mod.rs",
                "mod page;\npub struct Admin;\npub fn routes() { page::show(); }\n",
            ),
            ("admin/page.rs", "use super::Admin;\npub fn show() {}\n"),
        ];
        for (file, text) in files {
            std::fs::write(src.join(file), text).unwrap();
        }
        let err = check(&dir).unwrap_err();
        assert!(
            err.contains("an import circle: scim-model: a.rs, b.rs"),
            "{err}"
        );
        assert!(
            err.contains("an import circle: scim-model: admin/mod.rs, admin/page.rs"),
            "{err}"
        );
        assert!(!err.contains("c.rs"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dev_dependencies_do_not_count() {
        let dir = scratch("dev");
        write(&dir, "scim-model", "serde.workspace = true\n");
        check(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
