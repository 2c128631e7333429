//! The route table is the one list of endpoints; everything else that names
//! them must agree with it: the files under `api/`, the `[[bin]]` entries,
//! `vercel.json` and the README's endpoint table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use books::http::Route;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn api_files(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("api dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            api_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root()).expect("under root");
            found.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn route_files() -> BTreeSet<String> {
    Route::ALL.iter().map(|r| r.api_file()).collect()
}

#[test]
fn every_route_has_exactly_one_api_file_and_no_file_lacks_a_route() {
    let mut found = BTreeSet::new();
    api_files(&root().join("api"), &mut found);
    assert_eq!(found, route_files());
}

#[test]
fn each_api_file_serves_its_own_route_and_says_so() {
    for route in Route::ALL {
        let file = route.api_file();
        let text = read(&file);
        let method = route.methods().served()[0].as_str();
        let header = format!("//! {method} {}", route.path());
        assert!(
            text.starts_with(&format!("{header}\n")),
            "{file} must open with `{header}`"
        );
        assert!(
            text.contains(&format!(
                "books::adapters::vercel::serve(books::http::Route::{route:?})"
            )),
            "{file} must call serve(Route::{route:?})"
        );
        // Logic lives in the library, not in api/.
        assert!(
            text.lines().count() <= 8,
            "{file} is more than an entry point"
        );
    }
}

#[test]
fn cargo_has_one_bin_per_api_file_with_that_exact_path() {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml parses");
    let bins = manifest["bin"].as_array().expect("[[bin]] entries");
    let functions: BTreeSet<(String, String)> = bins
        .iter()
        .map(|bin| {
            (
                bin["name"].as_str().expect("bin name").to_owned(),
                bin["path"].as_str().expect("bin path").to_owned(),
            )
        })
        // The CLI, and the whole API as one Lambda function.
        .filter(|(name, _)| name != "books" && name != "books-lambda")
        .collect();
    let expected: BTreeSet<(String, String)> = Route::ALL
        .iter()
        .map(|r| (r.bin_name(), r.api_file()))
        .collect();
    assert_eq!(functions, expected);
    assert_eq!(manifest["package"]["default-run"].as_str(), Some("books"));
    // One feature set: no crate features, so plain `cargo test`, the
    // Vercel builds and the Lambda build share one build (Cargo.toml says
    // why the Lambda adapter is not behind a feature).
    let lambda = bins
        .iter()
        .find(|bin| bin["name"].as_str() == Some("books-lambda"))
        .expect("the books-lambda [[bin]]");
    assert_eq!(lambda["path"].as_str(), Some("src/bin/books-lambda.rs"));
    assert_eq!(lambda.get("required-features"), None);
    assert_eq!(manifest.get("features"), None);
    for bin in bins {
        assert_eq!(
            bin.get("test").and_then(|t| t.as_bool()),
            Some(false),
            "{bin}"
        );
    }
}

/// Vercel gives each function file the first `functions` key that matches
/// it (`key === file || minimatch(file, key)`, in key order), and fails the
/// build on a key that is no file's first match. Every function must bundle
/// the database, and the model exactly when its route uses it.
#[test]
fn vercel_json_bundles_the_database_everywhere_and_the_model_where_used() {
    let config: VercelConfig = serde_json::from_str(&read("vercel.json")).expect("vercel.json");
    let functions = config.functions.0;
    let patterns: Vec<(&String, globset::GlobMatcher)> = functions
        .iter()
        .map(|(key, _)| {
            let glob = globset::GlobBuilder::new(key)
                .literal_separator(true)
                .build()
                .unwrap_or_else(|err| panic!("{key}: {err}"));
            (key, glob.compile_matcher())
        })
        .collect();
    let mut used = BTreeSet::new();
    for route in Route::ALL {
        let file = route.api_file();
        let (key, _) = patterns
            .iter()
            .find(|(key, glob)| **key == file || glob.is_match(&file))
            .unwrap_or_else(|| panic!("no vercel.json functions key matches {file}"));
        used.insert(key.as_str());
        let entry = &functions.iter().find(|(k, _)| k == *key).expect("entry").1;
        assert!(
            entry["runtime"]
                .as_str()
                .is_some_and(|r| r.contains("rust")),
            "{key}"
        );
        let include = entry["includeFiles"].as_str().expect("includeFiles");
        let bundles = |name: &str| {
            globset::Glob::new(include)
                .expect("includeFiles is a glob")
                .compile_matcher()
                .is_match(name)
        };
        assert!(bundles("data/books.db"), "{file} ({key}): {include}");
        assert_eq!(
            bundles("data/model.json"),
            route.uses_model(),
            "{file} ({key}) must bundle data/model.json exactly when its route uses the model"
        );
        assert_eq!(
            bundles("data/model.bin"),
            route.uses_model(),
            "{file} ({key}) must bundle data/model.bin (the model's compact twin) with data/model.json"
        );
    }
    let unused: Vec<&String> = functions
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !used.contains(k.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "keys no function matches first (Vercel fails the build): {unused:?}"
    );
}

/// The part of `vercel.json` read here, keeping the order of `functions`.
#[derive(serde::Deserialize)]
struct VercelConfig {
    functions: InOrder,
}

/// A JSON object's entries in the order written (serde_json's `Map` sorts).
struct InOrder(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for InOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = InOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<InOrder, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(InOrder(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[test]
fn readme_lists_exactly_the_routes() {
    let readme = read("README.md");
    let section = readme
        .split("\n## Endpoints")
        .nth(1)
        .expect("README has an Endpoints section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let listed: BTreeSet<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `/api/v1"))
        .filter_map(|rest| rest.split('`').next())
        .map(|rest| format!("/api/v1{rest}"))
        .collect();
    let routes: BTreeSet<String> = Route::ALL.iter().map(|r| r.path().to_owned()).collect();
    assert_eq!(listed, routes);
}
