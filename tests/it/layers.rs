//! Layers point one way: each top-level module of the library may name only
//! modules of a lower layer (DESIGN.md §2). The table below is the one
//! statement of the layers; this test reads every `crate::…` (and
//! `super::…` that leaves its module) in `src/` and fails on any that runs
//! back up, or sideways within a layer, so no import circle can span two
//! top-level modules.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every top-level module of the library and its layer, lowest first. A
/// module may name a module of a lower layer only. The crate root's own
/// items (`crate::VERSION`) are below them all.
const LAYERS: &[(&str, u8)] = &[
    // Value types and text helpers, needing nothing of ours.
    ("domain", 0),
    ("hex", 0),
    ("text", 0),
    // Log, timing and metrics primitives any layer below HTTP may call.
    ("observe", 1),
    // Fetching and parsing the site.
    ("scrape", 2),
    // Features, the model and the similar books (built into the store).
    ("ml", 3),
    // The CSV and the database.
    ("store", 4),
    // Accounts and tokens; the scrape trigger.
    ("auth", 5),
    ("scraping", 5),
    // One function per endpoint: typed inputs, views, ServiceError.
    ("services", 6),
    // The route table, axum, problem+json, OpenAPI, middleware.
    ("http", 7),
    // How requests arrive (Vercel, Lambda, books serve); the usage report
    // (a command over the access log).
    ("adapters", 8),
    ("report", 8),
];

/// The library's source files: everything under `src/` but the binaries'
/// own files (`main.rs`, `commands.rs`, `bin/`), which use the library
/// from outside as `books::…`.
fn library_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.retain(|f| {
        let name = f.strip_prefix(&src).expect("under src");
        !matches!(name.to_str(), Some("main.rs" | "commands.rs"))
    });
    files.sort();
    files
}

/// The module path of a file under `src/`: `src/http/endpoints/ml.rs` is
/// `[http, endpoints, ml]`, `src/http/mod.rs` is `[http]`, `src/lib.rs` is
/// the root (`[]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The first segments of the paths `text` names from `start` (`crate::`
/// or `super::`): `crate::{a, b::c}` names `a` and `b`. Returns, for each,
/// how many `super::` led to it (0 for `crate::`) and the segment.
fn named_after(text: &str, start: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(start) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + start.len()..];
        // `$crate::`, `foo_crate::`, or `super::` inside a longer path.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
            continue;
        }
        let mut supers = usize::from(start == "super::");
        while let Some(after) = rest.strip_prefix("super::") {
            supers += 1;
            rest = after;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level names of a use group.
            let mut depth = 0usize;
            let mut name = String::new();
            let mut at_name = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_name = true,
                    c if at_name && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if at_name && !name.is_empty() => {
                        found.push((supers, std::mem::take(&mut name)));
                        at_name = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.push((supers, name));
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((supers, name));
            }
        }
    }
    found
}

/// The code of a file without its comments (doc links are not imports).
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every top-level module each file names, as (file, from, to).
fn imports() -> Vec<(String, String, String)> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for file in library_files() {
        let module = module_path(&src, &file);
        let Some(from) = module.first().cloned() else {
            continue; // lib.rs declares the modules
        };
        let text = code_of(&std::fs::read_to_string(&file).expect("readable"));
        let shown = format!("src/{}", file.strip_prefix(&src).unwrap().display());
        let mut named = named_after(&text, "crate::");
        named.extend(named_after(&text, "super::"));
        for (supers, name) in named {
            // Where the path lands: `super::` from `src/a/b.rs` is `a`;
            // from `src/a/mod.rs` or `src/a.rs` it is the crate root.
            let base = module[..module.len().saturating_sub(supers)].to_vec();
            if supers > 0 && base.is_empty() && layer_of(&name).is_none() {
                // `super::` out of an inline `mod tests` of a top-level
                // file lands in that file, not at the root.
                continue;
            }
            let to = if supers == 0 {
                name
            } else {
                base.first().cloned().unwrap_or(name)
            };
            if to != from {
                out.push((shown.clone(), from.clone(), to));
            }
        }
    }
    out
}

fn layer_of(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
}

/// A name at the crate root that is not a module (`VERSION`) is the root's
/// own item, below every layer.
fn is_root_item(name: &str) -> bool {
    !name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

#[test]
fn every_import_points_down_the_layers() {
    let mut wrong = BTreeSet::new();
    for (file, from, to) in imports() {
        if is_root_item(&to) {
            continue;
        }
        let Some(from_layer) = layer_of(&from) else {
            wrong.insert(format!(
                "{file}: module `{from}` is not in the layers table"
            ));
            continue;
        };
        match layer_of(&to) {
            None => {
                wrong.insert(format!(
                    "{file}: `{to}` (named from `{from}`) is not in the layers table"
                ));
            }
            Some(to_layer) if to_layer >= from_layer => {
                wrong.insert(format!(
                    "{file}: `{from}` (layer {from_layer}) imports `crate::{to}` (layer {to_layer}); \
                     a module may import only lower layers"
                ));
            }
            Some(_) => {}
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up or across the layers (tests/it/layers.rs):\n  {}",
        wrong.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn the_layers_table_names_every_module_of_the_library() {
    let lib = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let tabled: BTreeSet<&str> = LAYERS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        declared, tabled,
        "src/lib.rs's modules and the layers table in tests/it/layers.rs"
    );
}

#[test]
fn the_reader_finds_grouped_nested_and_relative_paths() {
    let text = "use crate::{http::Route, store::{Store, query}};\n\
                use super::super::error::ApiError;\n\
                let x = crate::observe::metrics::install(3);\n\
                $crate::ignored; my_crate::ignored;";
    let mut crate_paths = named_after(text, "crate::");
    crate_paths.sort();
    assert_eq!(
        crate_paths,
        vec![
            (0, "http".to_owned()),
            (0, "observe".to_owned()),
            (0, "store".to_owned())
        ]
    );
    assert_eq!(named_after(text, "super::"), vec![(2, "error".to_owned())]);
}
