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
        assert!(
            text.starts_with(&format!("//! GET {}\n", route.path())),
            "{file} must open with `//! GET {}`",
            route.path()
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
        .filter(|(name, _)| name != "books")
        .collect();
    let expected: BTreeSet<(String, String)> = Route::ALL
        .iter()
        .map(|r| (r.bin_name(), r.api_file()))
        .collect();
    assert_eq!(functions, expected);
    assert_eq!(manifest["package"]["default-run"].as_str(), Some("books"));
    for bin in bins {
        assert_eq!(
            bin.get("test").and_then(|t| t.as_bool()),
            Some(false),
            "{bin}"
        );
    }
}

#[test]
fn vercel_json_has_one_glob_for_every_function_bundling_the_database() {
    let config: serde_json::Value =
        serde_json::from_str(&read("vercel.json")).expect("vercel.json");
    let functions = config["functions"].as_object().expect("functions object");
    assert_eq!(
        functions.keys().collect::<Vec<_>>(),
        vec!["api/**/*.rs"],
        "one glob entry, no per-file entries"
    );
    let entry = &functions["api/**/*.rs"];
    let include = entry["includeFiles"].as_str().expect("includeFiles");
    assert!(include.contains("data/books.db"), "includeFiles: {include}");
    assert!(
        entry["runtime"]
            .as_str()
            .is_some_and(|r| r.contains("rust"))
    );
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
