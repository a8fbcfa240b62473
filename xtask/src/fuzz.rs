//! `cargo xtask fuzz [TARGET|all] [SECONDS]`: runs cargo-fuzz targets of `fuzz/` for a
//! bounded time each — one target (default 60 s), or every target in turn (`all`, or no
//! target at all; default 30 s each) — installing cargo-fuzz first when it is missing.
//! libFuzzer needs nightly-only compiler flags; `RUSTC_BOOTSTRAP=1` enables them on the
//! pinned stable toolchain for this one build. A target with a dictionary
//! (`fuzz/dicts/TARGET.dict`) is run with it. A crash or hang fails the task and leaves
//! its input in `fuzz/artifacts/TARGET/`; with `all`, the remaining targets still run
//! and every failing one is named at the end.
//!
//! [`check`] is what `cargo xtask test` runs: clippy on the fuzz package (outside the
//! workspace, so the workspace's own clippy never sees it), without building libFuzzer's
//! instrumented binaries.

use crate::{Result, cargo, command, run, target_dir, workspace_root};

/// The targets in fuzz/fuzz_targets.
const TARGETS: &[&str] = &["filter", "scim_query", "sign_in_params", "universal_logout"];

/// Seconds for one named target when none are given.
const DEFAULT_SECONDS: u64 = 60;

/// Seconds per target for `all` when none are given.
const DEFAULT_SECONDS_EACH: u64 = 30;

/// What to fuzz, and for how long each.
#[derive(Debug, PartialEq, Eq)]
struct Plan<'a> {
    targets: Vec<&'a str>,
    seconds: u64,
}

fn usage() -> String {
    format!(
        "usage: cargo xtask fuzz [TARGET|all] [SECONDS]; targets: {}",
        TARGETS.join(", ")
    )
}

fn plan<'a>(args: &[&'a str]) -> Result<Plan<'a>> {
    let seconds = |text: &str| {
        text.parse::<u64>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| format!("not a number of seconds: {text}"))
    };
    let (target, seconds) = match args {
        [] => (None, DEFAULT_SECONDS_EACH),
        ["all"] => (None, DEFAULT_SECONDS_EACH),
        ["all", s] => (None, seconds(s)?),
        [target] => (Some(*target), DEFAULT_SECONDS),
        [target, s] => (Some(*target), seconds(s)?),
        _ => return Err(usage()),
    };
    let targets = match target {
        None => TARGETS.to_vec(),
        Some(target) if TARGETS.contains(&target) => vec![target],
        Some(target) => {
            return Err(format!(
                "no fuzz target `{target}`; targets: {} (or `all`)",
                TARGETS.join(", ")
            ));
        }
    };
    Ok(Plan { targets, seconds })
}

/// Runs the fuzz task.
pub fn fuzz(args: &[&str]) -> Result {
    let plan = plan(args)?;
    let installed = command(cargo())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        run(&cargo(), &["install", "cargo-fuzz", "--locked"], &[])?;
    }
    let mut failed = Vec::new();
    for target in &plan.targets {
        if let Err(message) = run_target(target, plan.seconds) {
            eprintln!("xtask: {message}");
            failed.push(*target);
        }
    }
    match failed.as_slice() {
        [] => {
            if plan.targets.len() > 1 {
                println!(
                    "xtask: fuzzed {} for {} s each: no crash, no hang",
                    plan.targets.join(", "),
                    plan.seconds
                );
            }
            Ok(())
        }
        _ => Err(format!(
            "fuzzing found a failure in {}; see fuzz/artifacts/",
            failed.join(", ")
        )),
    }
}

/// Clippy on every fuzz target, warnings denied, into the workspace's build folder and
/// with the workspace's dev profile (the fuzz package is a workspace of its own), so
/// most dependencies are the ones the workspace's clippy already checked, and a second
/// run only rechecks what changed. cargo brings fuzz/Cargo.lock up to date with the
/// workspace's manifests as it goes, as `cargo fuzz` would; when it did, that is said, so
/// the change gets committed.
pub fn check() -> Result {
    let root = workspace_root();
    let fuzz = root.join("fuzz");
    let lock = fuzz.join("Cargo.lock");
    let before = std::fs::read(&lock).ok();
    let workspace_manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let profile = dev_profile(&workspace_manifest);
    let manifest = fuzz.join("Cargo.toml").to_string_lossy().into_owned();
    let target = target_dir().to_string_lossy().into_owned();
    let mut args = vec!["clippy", "--manifest-path", &manifest, "--bins"];
    args.extend(["--target-dir", &target]);
    for setting in &profile {
        args.extend(["--config", setting]);
    }
    args.extend(["--", "-D", "warnings"]);
    let checked = run(&cargo(), &args, &[]);
    if std::fs::read(&lock).ok() != before {
        println!(
            "xtask: fuzz/Cargo.lock was out of date with the workspace's manifests and has \
             been updated: commit it"
        );
    }
    checked
}

/// The `[profile.dev…]` settings of a Cargo.toml, as `--config` values
/// (`profile.dev.package."*".opt-level=1`).
fn dev_profile(manifest: &str) -> Vec<String> {
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).trim().to_owned();
        } else if (section == "profile.dev" || section.starts_with("profile.dev."))
            && let Some((key, value)) = line.split_once('=')
            && !line.starts_with('#')
        {
            settings.push(format!("{section}.{}={}", key.trim(), value.trim()));
        }
    }
    settings
}

fn run_target(target: &str, seconds: u64) -> Result {
    let fuzz_dir = workspace_root().join("fuzz");
    let max_time = format!("-max_total_time={seconds}");
    let mut libfuzzer_args = vec![max_time, "-timeout=10".to_owned()];
    let dict = fuzz_dir.join("dicts").join(format!("{target}.dict"));
    if dict.is_file() {
        libfuzzer_args.push(format!("-dict={}", dict.display()));
    }
    println!(
        "$ cargo fuzz run {target} -- {}   (in fuzz/, RUSTC_BOOTSTRAP=1)",
        libfuzzer_args.join(" ")
    );
    let status = command(cargo())
        .args(["fuzz", "run", target, "--"])
        .args(&libfuzzer_args)
        .env("RUSTC_BOOTSTRAP", "1")
        // Instrumented builds go to fuzz/target, never into the workspace's target folder,
        // whose artefacts they would otherwise replace back and forth.
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(&fuzz_dir)
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if status.success() {
        println!("xtask: fuzzed {target} for {seconds} s: no crash, no hang");
        Ok(())
    } else {
        Err(format!(
            "fuzzing {target} found a failure ({status}); see fuzz/artifacts/{target}/"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_one_target_or_all_of_them() {
        let all = |seconds| Plan {
            targets: TARGETS.to_vec(),
            seconds,
        };
        assert_eq!(plan(&[]), Ok(all(DEFAULT_SECONDS_EACH)));
        assert_eq!(plan(&["all"]), Ok(all(DEFAULT_SECONDS_EACH)));
        assert_eq!(plan(&["all", "5"]), Ok(all(5)));
        assert_eq!(
            plan(&["scim_query"]),
            Ok(Plan {
                targets: vec!["scim_query"],
                seconds: DEFAULT_SECONDS
            })
        );
        assert_eq!(
            plan(&["filter", "600"]),
            Ok(Plan {
                targets: vec!["filter"],
                seconds: 600
            })
        );
        assert!(plan(&["nope"]).unwrap_err().contains("sign_in_params"));
        assert!(plan(&["all", "soon"]).is_err());
        assert!(plan(&["filter", "0"]).is_err());
        assert!(plan(&["filter", "1", "2"]).is_err());
    }

    #[test]
    fn the_fuzz_check_takes_the_workspace_dev_profile() {
        let manifest = "[profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\nopt-level = 1\n# x = 2\n\n[profile.release]\ndebug = 1\n";
        assert_eq!(
            dev_profile(manifest),
            [
                "profile.dev.debug=\"line-tables-only\"",
                "profile.dev.package.\"*\".opt-level=1"
            ]
        );
        let real = std::fs::read_to_string(crate::workspace_root().join("Cargo.toml")).unwrap();
        assert!(!dev_profile(&real).is_empty());
    }

    #[test]
    fn every_target_has_a_source_file_and_a_bin_entry() {
        let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("fuzz");
        let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(
                fuzz.join("fuzz_targets")
                    .join(format!("{target}.rs"))
                    .is_file(),
                "{target}"
            );
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target} in fuzz/Cargo.toml"
            );
        }
    }
}
