//! Import circles inside a package: file A names something of file B's module, B (or a
//! file B reaches) names something of A's. Read from the sources as text: `crate::…`,
//! `super::…` and `self::…` paths (grouped `use` trees too) and paths that start with a
//! child module's name, each resolved to the file of the longest module it names. The
//! crate root (`lib.rs`) is left out: every module hangs from it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every circle in the packages under `root`'s crates/, bins/ and xtask/, as
/// `package: a.rs → b.rs → a.rs`, each listed once.
pub fn import_circles(root: &Path) -> Vec<String> {
    let mut packages = vec![root.join("xtask")];
    for folder in ["crates", "bins"] {
        if let Ok(entries) = std::fs::read_dir(root.join(folder)) {
            packages.extend(entries.flatten().map(|entry| entry.path()));
        }
    }
    packages.sort();
    let mut circles = Vec::new();
    for package in packages {
        let src = package.join("src");
        if !src.join("lib.rs").is_file() && !src.join("main.rs").is_file() {
            continue;
        }
        let name = package
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for circle in circles_in(&src) {
            let shown: Vec<String> = circle.iter().map(|f| f.display().to_string()).collect();
            circles.push(format!("{name}: {}", shown.join(", ")));
        }
    }
    circles
}

/// The circles among the module files under `src` (paths relative to it).
fn circles_in(src: &Path) -> Vec<Vec<PathBuf>> {
    let mut files = Vec::new();
    super::sources::rust_files(src, &mut files);
    // A binary's `main.rs` beside a `lib.rs` is its own crate; `src/bin` holds others.
    let library = src.join("lib.rs").is_file();
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(src).ok()?;
            if relative.starts_with("bin") || (library && relative == Path::new("main.rs")) {
                return None;
            }
            Some((module_of(relative), relative.to_path_buf()))
        })
        .collect();
    // What the crate root re-exports (`pub use a::b::Thing;`): `crate::Thing` is a::b's.
    let root = if library { "lib.rs" } else { "main.rs" };
    let reexports: BTreeMap<String, Vec<String>> = std::fs::read_to_string(src.join(root))
        .map(|text| {
            let code = code_only(&text);
            code.match_indices("pub use ")
                .flat_map(|(at, _)| {
                    let chars: Vec<char> = code.get(at + 8..).unwrap_or_default().chars().collect();
                    use_tree(&chars, 0, false).0
                })
                .filter_map(|mut path| {
                    let name = path.pop()?;
                    Some((name, path))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut edges: BTreeMap<&Path, BTreeSet<&Path>> = BTreeMap::new();
    for (module, file) in &modules {
        if module.is_empty() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(src.join(file)) else {
            continue;
        };
        for mut path in referenced_paths(&code_only(&text), module, &modules) {
            if let Some(home) = path.first().and_then(|name| reexports.get(name)) {
                path = [home.clone(), path].concat();
            }
            let target = (1..=path.len())
                .rev()
                .find_map(|n| path.get(..n).and_then(|prefix| modules.get(prefix)));
            if let Some(target) = target
                && target != file
                && !path.is_empty()
            {
                edges.entry(file).or_default().insert(target);
            }
        }
    }
    strongly_connected(&edges)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| component.into_iter().map(Path::to_path_buf).collect())
        .collect()
}

/// The module path of a file relative to `src`: `a/b.rs` and `a/b/mod.rs` are `a::b`,
/// `lib.rs` and `main.rs` the root.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// The text without comments (line comments and doc comments), so that a path named in
/// prose is not an import, and without the unit tests at its end (`#[cfg(test)]` at the
/// start of a line): a test may use what its module's code does not.
fn code_only(text: &str) -> String {
    text.lines()
        .take_while(|line| *line != "#[cfg(test)]")
        .map(|line| match line.find("//") {
            Some(at) => line.get(..at).unwrap_or_default(),
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every absolute module path the code of `module` names.
fn referenced_paths(
    code: &str,
    module: &[String],
    modules: &BTreeMap<Vec<String>, PathBuf>,
) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let starts_word = at == 0
            || chars
                .get(at - 1)
                .is_none_or(|c| !(c.is_alphanumeric() || *c == '_' || *c == ':'));
        if !starts_word
            || !chars
                .get(at)
                .is_some_and(|c| c.is_alphabetic() || *c == '_')
        {
            at += 1;
            continue;
        }
        let (paths, end) = use_tree(&chars, at, false);
        at = end.max(at + 1);
        for path in paths {
            let Some(first) = path.first() else { continue };
            let absolute = match first.as_str() {
                "crate" => path.get(1..).map(<[String]>::to_vec),
                "super" => {
                    let mut base = module.to_vec();
                    let mut rest = path.as_slice();
                    while rest.first().is_some_and(|s| s == "super") {
                        base.pop();
                        rest = rest.get(1..).unwrap_or_default();
                    }
                    Some([base, rest.to_vec()].concat())
                }
                "self" => {
                    Some([module.to_vec(), path.get(1..).unwrap_or_default().to_vec()].concat())
                }
                // A child module named by its name alone.
                child
                    if path.len() > 1
                        && modules.contains_key(&[module, &[child.to_owned()]].concat()) =>
                {
                    Some([module.to_vec(), path].concat())
                }
                _ => None,
            };
            found.extend(absolute);
        }
    }
    found
}

/// The paths a `use` tree or a path expression starting at `at` spells out — `a::b::c`,
/// `a::{b, c::{d, self}}`, `a::*` — and where it ends. A single word is a path only in a
/// group (`{d, self}`).
fn use_tree(chars: &[char], mut at: usize, in_group: bool) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        let start = at;
        while chars
            .get(at)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            at += 1;
        }
        if at > start {
            prefix.push(
                chars
                    .get(start..at)
                    .unwrap_or_default()
                    .iter()
                    .collect::<String>(),
            );
        }
        if chars.get(at) == Some(&':') && chars.get(at + 1) == Some(&':') {
            at += 2;
            match chars.get(at) {
                Some('{') => {
                    let mut paths = Vec::new();
                    at += 1;
                    loop {
                        while chars
                            .get(at)
                            .is_some_and(|c| c.is_whitespace() || *c == ',')
                        {
                            at += 1;
                        }
                        match chars.get(at) {
                            None => return (paths, at),
                            Some('}') => return (paths, at + 1),
                            Some(_) => {
                                let (inner, end) = use_tree(chars, at, true);
                                for path in inner {
                                    let path = if path == ["self"] { Vec::new() } else { path };
                                    paths.push([prefix.clone(), path].concat());
                                }
                                at = if end > at { end } else { at + 1 };
                            }
                        }
                    }
                }
                Some('*') => return (vec![prefix], at + 1),
                _ => continue,
            }
        }
        let paths = if prefix.len() > 1 || (in_group && !prefix.is_empty()) {
            vec![prefix]
        } else {
            Vec::new()
        };
        return (paths, at);
    }
}

/// The strongly connected components of `edges`: files that reach one another. A package
/// has some dozens of files, so reaching out from each is quick enough.
fn strongly_connected<'a>(edges: &BTreeMap<&'a Path, BTreeSet<&'a Path>>) -> Vec<Vec<&'a Path>> {
    let reach = |from: &'a Path| {
        let mut seen = BTreeSet::new();
        let mut next = vec![from];
        while let Some(node) = next.pop() {
            for &to in edges.get(node).into_iter().flatten() {
                if seen.insert(to) {
                    next.push(to);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&Path, BTreeSet<&Path>> =
        edges.keys().map(|&node| (node, reach(node))).collect();
    let mut placed = BTreeSet::new();
    let mut components = Vec::new();
    for (&node, from_node) in &reached {
        if placed.contains(node) || !from_node.contains(node) {
            continue;
        }
        let component: Vec<&Path> = from_node
            .iter()
            .copied()
            .filter(|other| reached.get(other).is_some_and(|back| back.contains(node)))
            .collect();
        placed.extend(component.iter().copied());
        components.push(component);
    }
    components
}
