//! `cargo xtask fuzz [TARGET|all] [SECONDS]`: runs cargo-fuzz targets of `fuzz/` for a
//! bounded time each — one target (default 60 s), or every target in turn (`all`, or no
//! target at all; default 30 s each) — installing cargo-fuzz first when it is missing.
//! libFuzzer needs nightly-only compiler flags; `RUSTC_BOOTSTRAP=1` enables them on the
//! pinned stable toolchain for this one build. A target with a dictionary
//! (`fuzz/dicts/TARGET.dict`) is run with it. A crash or hang fails the task and leaves
//! its input in `fuzz/artifacts/TARGET/`; with `all`, the remaining targets still run
//! and every failing one is named at the end.

use std::process::Command;

use crate::{Result, cargo, workspace_root};

/// The targets in fuzz/fuzz_targets.
const TARGETS: &[&str] = &["filter", "scim_query", "sign_in_params"];

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
    let installed = Command::new(cargo())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        crate::run(&cargo(), &["install", "cargo-fuzz", "--locked"], &[])?;
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
    let status = Command::new(cargo())
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
