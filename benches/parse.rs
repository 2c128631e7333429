//! Parser throughput (pages/s) for a listing page and a product page: the
//! mirror's own pages when `../shared/fixtures/books.toscrape.com` is there,
//! generated pages of the same shape otherwise.

use std::hint::black_box;
use std::path::Path;

use books::scrape::parse::{parse_listing, parse_product};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use url::Url;

const BASE: &str = "http://127.0.0.1:8080/";
const LISTING: &str = "http://127.0.0.1:8080/catalogue/page-1.html";
const PRODUCT: &str = "http://127.0.0.1:8080/catalogue/a-light-in-the-attic_1000/index.html";

fn mirror_page(relative: &str) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/books.toscrape.com");
    std::fs::read_to_string(root.join(relative)).ok()
}

/// A listing page of 20 books with the site's 50-category sidebar.
fn generated_listing() -> String {
    let sidebar: String = (2..52)
        .map(|n| {
            format!("<li><a href=\"category/books/cat_{n}/index.html\">Category {n}</a></li>\n")
        })
        .collect();
    let items: String = (1..=20)
        .map(|i| {
            format!(
                r#"<li class="col-xs-6"><article class="product_pod">
<div class="image_container"><a href="book-{i}_{i}/index.html"><img src="../media/cache/{i}.jpg" alt="Book {i}" class="thumbnail"></a></div>
<p class="star-rating Three"><i class="icon-star"></i><i class="icon-star"></i><i class="icon-star"></i></p>
<h3><a href="book-{i}_{i}/index.html" title="Book {i}">Book {i}</a></h3>
<div class="product_price"><p class="price_color">£51.77</p><p class="instock availability"><i class="icon-ok"></i> In stock</p>
<form><button type="submit" class="btn btn-primary btn-block">Add to basket</button></form></div>
</article></li>
"#
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html><html><head><title>All products</title></head><body>
<aside><ul class="nav nav-list">{sidebar}</ul></aside>
<form method="get" class="form-horizontal"><strong>1000</strong> results - showing <strong>1</strong> to <strong>20</strong>.</form>
<section><ol class="row">{items}</ol>
<ul class="pager"><li class="current">Page 1 of 50</li><li class="next"><a href="page-2.html">next</a></li></ul>
</section></body></html>"#
    )
}

/// A product page shaped like the site's.
fn generated_product() -> String {
    let description = "It's hard to imagine a world without A Light in the Attic. ".repeat(15);
    format!(
        r#"<!DOCTYPE html><html><head><title>A Light in the Attic</title></head><body>
<ul class="breadcrumb"><li><a href="../../index.html">Home</a></li><li><a href="../category/books_1/index.html">Books</a></li>
<li><a href="../category/books/poetry_23/index.html">Poetry</a></li><li class="active">A Light in the Attic</li></ul>
<article class="product_page"><div class="row">
<div class="col-sm-6"><div id="product_gallery" class="carousel"><div class="item active"><img src="../../media/cache/fe/72/x.jpg" alt="" /></div></div></div>
<div class="col-sm-6 product_main"><h1>A Light in the Attic</h1><p class="price_color">£51.77</p>
<p class="instock availability"><i class="icon-ok"></i> In stock (22 available)</p>
<p class="star-rating Three"><i class="icon-star"></i></p></div></div>
<div id="product_description" class="sub-header"><h2>Product Description</h2></div><p>{description}</p>
<table class="table table-striped">
<tr><th>UPC</th><td>a897fe39b1053632</td></tr><tr><th>Product Type</th><td>Books</td></tr>
<tr><th>Price (excl. tax)</th><td>£51.77</td></tr><tr><th>Price (incl. tax)</th><td>£51.77</td></tr>
<tr><th>Tax</th><td>£0.00</td></tr><tr><th>Availability</th><td>In stock (22 available)</td></tr>
<tr><th>Number of reviews</th><td>0</td></tr></table></article></body></html>"#
    )
}

fn parse_pages(c: &mut Criterion) {
    let (listing, product, source) = match (
        mirror_page("catalogue/page-1.html"),
        mirror_page("catalogue/a-light-in-the-attic_1000/index.html"),
    ) {
        (Some(l), Some(p)) => (l, p, "mirror"),
        _ => (generated_listing(), generated_product(), "generated"),
    };
    let base = Url::parse(BASE).expect("base URL");
    let listing_url = Url::parse(LISTING).expect("listing URL");
    let product_url = Url::parse(PRODUCT).expect("product URL");
    assert!(parse_listing(&listing, &listing_url).is_ok());
    assert!(parse_product(&product, &product_url, &base).is_ok());

    let mut group = c.benchmark_group(format!("parse/{source}"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("listing", |b| {
        b.iter(|| parse_listing(black_box(&listing), &listing_url))
    });
    group.bench_function("product", |b| {
        b.iter(|| parse_product(black_box(&product), &product_url, &base))
    });
    // The mirror's largest product page (33 KB, with "recently viewed" products).
    let large = "catalogue/team-of-rivals-the-political-genius-of-abraham-lincoln_488/index.html";
    if let Some(page) = mirror_page(large) {
        let large_url = base.join(large).expect("large product URL");
        assert!(parse_product(&page, &large_url, &base).is_ok());
        group.bench_function("product-large", |b| {
            b.iter(|| parse_product(black_box(&page), &large_url, &base))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_pages);
criterion_main!(benches);
