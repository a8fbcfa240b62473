//! `cargo xtask fuzz TARGET [SECONDS]`: runs a cargo-fuzz target of `fuzz/` for a bounded
//! time (default 60 s), installing cargo-fuzz first when it is missing. libFuzzer needs
//! nightly-only compiler flags; `RUSTC_BOOTSTRAP=1` enables them on the pinned stable
//! toolchain for this one build. A crash or hang fails the task and leaves its input in
//! `fuzz/artifacts/TARGET/`.

use std::process::Command;

use crate::{Result, cargo, workspace_root};

/// The targets in fuzz/fuzz_targets.
const TARGETS: &[&str] = &["filter"];

/// Runs the fuzz task.
pub fn fuzz(args: &[&str]) -> Result {
    let (target, seconds) = match args {
        [target] => (*target, 60),
        [target, seconds] => (
            *target,
            seconds
                .parse()
                .map_err(|_| format!("not a number of seconds: {seconds}"))?,
        ),
        _ => {
            return Err(format!(
                "usage: cargo xtask fuzz TARGET [SECONDS]; targets: {}",
                TARGETS.join(", ")
            ));
        }
    };
    if !TARGETS.contains(&target) {
        return Err(format!(
            "no fuzz target `{target}`; targets: {}",
            TARGETS.join(", ")
        ));
    }
    let installed = Command::new(cargo())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        crate::run(&cargo(), &["install", "cargo-fuzz", "--locked"], &[])?;
    }
    let fuzz_dir = workspace_root().join("fuzz");
    let max_time = format!("-max_total_time={seconds}");
    println!("$ cargo fuzz run {target} -- {max_time}   (in fuzz/, RUSTC_BOOTSTRAP=1)");
    let status = Command::new(cargo())
        .args(["fuzz", "run", target, "--", &max_time, "-timeout=10"])
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
