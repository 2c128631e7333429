//! End to end: serve the offline mirror of books.toscrape.com
//! (`../shared/fixtures/books.toscrape.com`) on 127.0.0.1 with a small static
//! file server and scrape all of it. `#[ignore]`d, with the reason, since the
//! mirror lives outside this repository: `cargo test -- --include-ignored`
//! (as `.ci/run` runs where the mirror is) runs it, and then a missing mirror
//! is a failure.

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};

use crate::common::{respond, serve};
use books::scrape::progress::Progress;
use books::scrape::{CrawlConfig, crawl};
use hyper::StatusCode;
use url::Url;

fn mirror_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/books.toscrape.com")
}

/// Maps a URL path to a file under `root`; `None` for anything escaping it.
fn file_for(root: &Path, url_path: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for component in Path::new(url_path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if url_path.ends_with('/') || path.is_dir() {
        path.push("index.html");
    }
    Some(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the shared mirror at ../shared/fixtures/books.toscrape.com"]
async fn scrapes_the_whole_mirror() {
    let root = mirror_root();
    assert!(
        root.join("catalogue/page-1.html").is_file(),
        "the mirror end-to-end test needs the offline mirror of books.toscrape.com \
         at {} (../shared/fixtures/books.toscrape.com beside this repository), \
         and it has no catalogue/page-1.html",
        root.display()
    );
    let served_root = root.clone();
    let addr = serve(move |path| {
        let file = file_for(&served_root, &path);
        async move {
            match file.map(std::fs::read) {
                Some(Ok(bytes)) => respond(StatusCode::OK, bytes),
                _ => respond(StatusCode::NOT_FOUND, "not found"),
            }
        }
    })
    .await;
    let base = Url::parse(&format!("http://{addr}/")).unwrap();
    let output = crawl(&CrawlConfig::new(base), &Progress::hidden())
        .await
        .expect("crawl starts");
    let report = &output.report;
    println!("mirror scrape: {report}");
    assert!(report.is_complete(), "{:?}", report.failures);
    assert_eq!(output.reported_total, Some(1000));
    assert_eq!(report.pages, 1050);
    assert_eq!(report.retries, 0);

    let books = &output.books;
    let ids: Vec<u32> = books.iter().map(|b| b.id.get()).collect();
    assert_eq!(ids, (1..=1000).collect::<Vec<_>>());
    let upcs: HashSet<&str> = books.iter().map(|b| b.upc.as_str()).collect();
    assert_eq!(upcs.len(), 1000);
    let categories: HashSet<&str> = books.iter().map(|b| b.category.as_str()).collect();
    assert_eq!(categories.len(), 50);
    let mut ratings = BTreeMap::new();
    for book in books {
        *ratings.entry(book.rating.stars()).or_insert(0) += 1;
    }
    assert_eq!(
        ratings.into_iter().collect::<Vec<_>>(),
        vec![(1, 226), (2, 196), (3, 203), (4, 179), (5, 196)]
    );
    assert_eq!(books.iter().map(|b| u64::from(b.stock)).sum::<u64>(), 8585);
    let empty: Vec<u32> = books
        .iter()
        .filter(|b| b.description.is_empty())
        .map(|b| b.id.get())
        .collect();
    assert_eq!(empty, vec![5, 840]);

    let first = &books[999];
    assert_eq!(first.title, "A Light in the Attic");
    assert_eq!(first.upc, "a897fe39b1053632");
    assert_eq!(first.category, "Poetry");
    assert_eq!(first.price.to_string(), "51.77");
    assert_eq!(first.availability, "In stock");
    assert_eq!(first.stock, 22);
    assert_eq!(
        first.product_url,
        "https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html"
    );
    assert_eq!(
        first.image_url,
        "https://books.toscrape.com/media/cache/fe/72/fe72f0532301ec28892ae79a629a293c.jpg"
    );
    for book in books {
        assert!(
            book.product_url
                .starts_with("https://books.toscrape.com/catalogue/")
                && book.product_url.ends_with("/index.html"),
            "{}",
            book.product_url
        );
        assert!(
            book.image_url
                .starts_with("https://books.toscrape.com/media/cache/"),
            "{}",
            book.image_url
        );
        assert!(!book.title.is_empty() && !book.upc.is_empty());
        assert_eq!(book.product_type, "Books");
        assert_eq!(book.availability, "In stock");
        assert!(!book.title.contains("&amp;") && !book.description.contains("&amp;"));
    }
}
