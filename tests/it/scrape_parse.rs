//! Parser tests on small HTML fixtures written here, shaped like the site's
//! pages: listing pages (with and without "next"), product pages (every star
//! rating, no description, HTML entities), relative links from nested pages,
//! and truncated pages (typed errors, never a panic).

use books::domain::Price;
use books::scrape::parse::{PagePosition, ParseError, parse_listing, parse_product};
use url::Url;

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL")
}

/// A listing page with `products` as (href, title) pairs, the site's result
/// count when `total` is given, and a "next" link when `next` is given (page
/// 1 of 2 then, else page 2 of 2).
fn listing_html(products: &[(&str, &str)], total: Option<u32>, next: Option<&str>) -> String {
    let mut html = String::from(
        r#"<!DOCTYPE html><html lang="en-us"><head><title>All products | Books to Scrape</title></head>
<body><div class="container-fluid page"><div class="page_inner">
<ul class="breadcrumb"><li><a href="../index.html">Home</a></li><li class="active">All products</li></ul>
<aside class="sidebar"><ul class="nav nav-list"><li><a href="category/books_1/index.html">Books</a>
<ul><li><a href="category/books/travel_2/index.html">Travel</a></li></ul></li></ul></aside>
<div class="col-sm-8 col-md-9"><div class="page-header action"><h1>All products</h1></div>
<form method="get" class="form-horizontal"><div style="display:none"></div>
"#,
    );
    if let Some(total) = total {
        html.push_str(&format!(
            "<strong>{total}</strong> results - showing <strong>1</strong> to <strong>20</strong>.\n"
        ));
    }
    html.push_str("</form><section><div><ol class=\"row\">\n");
    for (href, title) in products {
        html.push_str(&format!(
            r#"<li class="col-xs-6"><article class="product_pod">
<div class="image_container"><a href="{href}"><img src="../media/x.jpg" alt="{title}" class="thumbnail"></a></div>
<p class="star-rating Three"><i class="icon-star"></i></p>
<h3><a href="{href}" title="{title}">{title}</a></h3>
<div class="product_price"><p class="price_color">£51.77</p><p class="instock availability">In stock</p></div>
</article></li>
"#
        ));
    }
    let page = if next.is_some() { 1 } else { 2 };
    html.push_str(&format!(
        "</ol><div><ul class=\"pager\"><li class=\"current\">Page {page} of 2</li>\n"
    ));
    if let Some(next) = next {
        html.push_str(&format!(
            "<li class=\"next\"><a href=\"{next}\">next</a></li>\n"
        ));
    }
    html.push_str("</ul></div></div></section></div></div></div></body></html>\n");
    html
}

/// The parts of a product page that vary between tests.
struct Product<'a> {
    title: &'a str,
    category: &'a str,
    rating_word: &'a str,
    availability: &'a str,
    description: Option<&'a str>,
}

impl Default for Product<'_> {
    fn default() -> Self {
        Product {
            title: "A Light in the Attic",
            category: "Poetry",
            rating_word: "Three",
            availability: "In stock (22 available)",
            description: Some("It's hard to imagine a world without A Light in the Attic."),
        }
    }
}

fn product_html(p: &Product<'_>) -> String {
    let description = match p.description {
        Some(text) => format!(
            r#"<div id="product_description" class="sub-header"><h2>Product Description</h2></div>
<p>{text}</p>
"#
        ),
        None => String::new(),
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en-us" class="no-js"><head><title>{title} | Books to Scrape - Sandbox</title></head>
<body id="default" class="default">
<div class="container-fluid page"><div class="page_inner">
<ul class="breadcrumb">
    <li><a href="../../index.html">Home</a></li>
    <li><a href="../category/books_1/index.html">Books</a></li>
    <li><a href="../category/books/poetry_23/index.html">{category}</a></li>
    <li class="active">{title}</li>
</ul>
<div class="content"><div id="content_inner">
<article class="product_page"><!-- Start of product page -->
<div class="row">
  <div class="col-sm-6"><div id="product_gallery" class="carousel"><div class="thumbnail"><div class="carousel-inner">
    <div class="item active"><img src="../../media/cache/fe/72/fe72f0532301ec28892ae79a629a293c.jpg" alt="{title}" /></div>
  </div></div></div></div>
  <div class="col-sm-6 product_main">
    <h1>{title}</h1>
    <p class="price_color">£51.77</p>
    <p class="instock availability"><i class="icon-ok"></i> {availability} </p>
    <p class="star-rating {rating}"><i class="icon-star"></i>
      <!-- <small><a href="/catalogue/x/reviews/">0 customer reviews</a></small> -->&nbsp;</p>
    <hr/>
  </div>
</div>
{description}<div class="sub-header"><h2>Product Information</h2></div>
<table class="table table-striped">
    <tr><th>UPC</th><td>a897fe39b1053632</td></tr>
    <tr><th>Product Type</th><td>Books</td></tr>
    <tr><th>Price (excl. tax)</th><td>£51.77</td></tr>
    <tr><th>Price (incl. tax)</th><td>£53.80</td></tr>
    <tr><th>Tax</th><td>£2.03</td></tr>
    <tr><th>Availability</th><td>{availability}</td></tr>
    <tr><th>Number of reviews</th><td>3</td></tr>
</table>
</article></div></div></div></div></body></html>
"#,
        title = p.title,
        category = p.category,
        rating = p.rating_word,
        availability = p.availability,
    )
}

const PRODUCT_URL: &str = "http://127.0.0.1:8080/catalogue/a-light-in-the-attic_1000/index.html";
const BASE: &str = "http://127.0.0.1:8080/";

#[test]
fn listing_with_next_resolves_links_against_the_page() {
    let html = listing_html(
        &[
            (
                "a-light-in-the-attic_1000/index.html",
                "A Light in the Attic",
            ),
            ("tipping-the-velvet_999/index.html", "Tipping the Velvet"),
        ],
        Some(1000),
        Some("page-2.html"),
    );
    let page = parse_listing(&html, &url("http://127.0.0.1:8080/catalogue/page-1.html")).unwrap();
    assert_eq!(
        page.products,
        vec![
            url("http://127.0.0.1:8080/catalogue/a-light-in-the-attic_1000/index.html"),
            url("http://127.0.0.1:8080/catalogue/tipping-the-velvet_999/index.html"),
        ]
    );
    assert_eq!(
        page.next,
        Some(url("http://127.0.0.1:8080/catalogue/page-2.html"))
    );
    assert_eq!(page.reported_total, Some(1000));
}

#[test]
fn last_listing_page_has_no_next() {
    let html = listing_html(
        &[("soumission_998/index.html", "Soumission")],
        Some(1),
        None,
    );
    let page = parse_listing(&html, &url("http://h/catalogue/page-50.html")).unwrap();
    assert_eq!(page.next, None);
    assert_eq!(page.products.len(), 1);
    assert_eq!(page.reported_total, Some(1));
}

#[test]
fn listing_without_a_result_count() {
    let html = listing_html(&[("soumission_998/index.html", "Soumission")], None, None);
    let page = parse_listing(&html, &url("http://h/catalogue/page-50.html")).unwrap();
    assert_eq!(page.reported_total, None);
}

#[test]
fn links_from_nested_category_pages_resolve_to_the_catalogue() {
    let html = listing_html(
        &[("../../../foo_12/index.html", "Foo")],
        Some(1),
        Some("page-2.html"),
    );
    let page_url = url("http://127.0.0.1:9/catalogue/category/books/poetry_23/index.html");
    let page = parse_listing(&html, &page_url).unwrap();
    assert_eq!(
        page.products,
        vec![url("http://127.0.0.1:9/catalogue/foo_12/index.html")]
    );
    assert_eq!(
        page.next,
        Some(url(
            "http://127.0.0.1:9/catalogue/category/books/poetry_23/page-2.html"
        ))
    );
}

#[test]
fn listing_cut_before_its_next_link_is_an_error() {
    let html = listing_html(
        &[("soumission_998/index.html", "Soumission")],
        Some(1000),
        Some("page-2.html"),
    );
    let cut = &html[..html.find("<li class=\"next\">").unwrap()];
    assert_eq!(
        parse_listing(cut, &url("http://h/catalogue/page-1.html")),
        Err(ParseError::NoNextLink { page: 1, of: 2 })
    );
    let page = parse_listing(&html, &url("http://h/catalogue/page-1.html")).unwrap();
    assert_eq!(page.position, Some(PagePosition { page: 1, of: 2 }));
}

#[test]
fn listing_without_products_is_an_error() {
    let html = "<html><body><ul class=\"pager\"></ul></body></html>";
    assert_eq!(
        parse_listing(html, &url("http://h/catalogue/page-1.html")),
        Err(ParseError::Missing("product links"))
    );
}

#[test]
fn product_page_gives_every_column() {
    let html = product_html(&Product::default());
    let book = parse_product(&html, &url(PRODUCT_URL), &url(BASE)).unwrap();
    assert_eq!(book.id.get(), 1000);
    assert_eq!(book.upc, "a897fe39b1053632");
    assert_eq!(book.title, "A Light in the Attic");
    assert_eq!(book.category, "Poetry");
    assert_eq!(book.price, Price::from_pence(5380));
    assert_eq!(book.price_excl_tax, Price::from_pence(5177));
    assert_eq!(book.tax, Price::from_pence(203));
    assert_eq!(book.rating.stars(), 3);
    assert_eq!(book.availability, "In stock");
    assert_eq!(book.stock, 22);
    assert_eq!(book.review_count, 3);
    assert_eq!(book.product_type, "Books");
    assert_eq!(
        book.description,
        "It's hard to imagine a world without A Light in the Attic."
    );
    assert_eq!(
        book.image_url,
        "https://books.toscrape.com/media/cache/fe/72/fe72f0532301ec28892ae79a629a293c.jpg"
    );
    assert_eq!(
        book.product_url,
        "https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html"
    );
}

#[test]
fn every_star_rating() {
    for (stars, word) in ["One", "Two", "Three", "Four", "Five"].iter().enumerate() {
        let html = product_html(&Product {
            rating_word: word,
            ..Product::default()
        });
        let book = parse_product(&html, &url(PRODUCT_URL), &url(BASE)).unwrap();
        assert_eq!(usize::from(book.rating.stars()), stars + 1, "{word}");
    }
    let html = product_html(&Product {
        rating_word: "Six",
        ..Product::default()
    });
    assert!(matches!(
        parse_product(&html, &url(PRODUCT_URL), &url(BASE)),
        Err(ParseError::Domain {
            field: "rating",
            ..
        })
    ));
}

#[test]
fn book_without_description_has_an_empty_one() {
    let html = product_html(&Product {
        description: None,
        ..Product::default()
    });
    let book = parse_product(&html, &url(PRODUCT_URL), &url(BASE)).unwrap();
    assert_eq!(book.description, "");
    assert_eq!(book.upc, "a897fe39b1053632");
}

#[test]
fn html_entities_are_decoded_and_text_kept() {
    let html = product_html(&Product {
        title: "Tom &amp; Jerry&#39;s &quot;Big&quot; Day",
        category: "Children&#39;s",
        description: Some("  Caf&eacute; &lt;au&gt; lait&hellip; ...more"),
        ..Product::default()
    });
    let book = parse_product(&html, &url(PRODUCT_URL), &url(BASE)).unwrap();
    assert_eq!(book.title, "Tom & Jerry's \"Big\" Day");
    assert_eq!(book.category, "Children's");
    assert_eq!(book.description, "  Café <au> lait… ...more");
}

#[test]
fn out_of_stock_has_zero_stock() {
    let html = product_html(&Product {
        availability: "Out of stock",
        ..Product::default()
    });
    let book = parse_product(&html, &url(PRODUCT_URL), &url(BASE)).unwrap();
    assert_eq!(book.availability, "Out of stock");
    assert_eq!(book.stock, 0);
}

#[test]
fn canonical_urls_from_a_mirror_under_a_path() {
    let html = product_html(&Product::default());
    let page = url("http://10.0.0.1:81/mirror/catalogue/a-light-in-the-attic_1000/index.html");
    let book = parse_product(&html, &page, &url("http://10.0.0.1:81/mirror/")).unwrap();
    assert_eq!(
        book.product_url,
        "https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html"
    );
    assert!(
        book.image_url
            .starts_with("https://books.toscrape.com/media/cache/fe/72/"),
        "{}",
        book.image_url
    );
}

#[test]
fn truncated_product_pages_are_errors_not_panics() {
    let html = product_html(&Product::default());
    // Cut everywhere on a grid: every prefix must parse to Ok or a typed error.
    let mut errors = 0;
    for cut in (0..html.len()).step_by(37) {
        let Some(prefix) = html.get(..cut) else {
            continue;
        };
        if parse_product(prefix, &url(PRODUCT_URL), &url(BASE)).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0);
    // Cut inside the information table: names the missing row.
    let cut = html.find("<tr><th>Tax").unwrap();
    assert_eq!(
        parse_product(&html[..cut], &url(PRODUCT_URL), &url(BASE)),
        Err(ParseError::Missing("Tax"))
    );
    // Not a product page at all.
    assert_eq!(
        parse_product(
            "<html><body>502 Bad Gateway</body></html>",
            &url(PRODUCT_URL),
            &url(BASE)
        ),
        Err(ParseError::Missing("product_main block"))
    );
    assert_eq!(
        parse_product("", &url(PRODUCT_URL), &url(BASE)),
        Err(ParseError::Missing("product_main block"))
    );
}

#[test]
fn product_url_without_an_id_is_an_error() {
    let html = product_html(&Product::default());
    let err = parse_product(
        &html,
        &url("http://h/catalogue/no-id/index.html"),
        &url(BASE),
    );
    assert!(matches!(err, Err(ParseError::Invalid { .. })), "{err:?}");
}

#[test]
fn bad_price_names_the_field() {
    let html = product_html(&Product::default()).replace("£2.03", "£2.0x");
    assert!(matches!(
        parse_product(&html, &url(PRODUCT_URL), &url(BASE)),
        Err(ParseError::Domain { field: "tax", .. })
    ));
}

#[test]
fn description_after_the_information_table_is_still_found() {
    let html = product_html(&Product::default());
    let start = html.find("<div id=\"product_description\"").unwrap();
    let end = html.find("<div class=\"sub-header\">").unwrap();
    let block = &html[start..end];
    let moved = html
        .replacen(block, "", 1)
        .replacen("</table>", &format!("</table>\n{block}"), 1);
    let book = parse_product(&moved, &url(PRODUCT_URL), &url(BASE)).unwrap();
    assert_eq!(
        book.description,
        "It's hard to imagine a world without A Light in the Attic."
    );
}

#[test]
fn recently_viewed_products_after_the_table_do_not_matter() {
    let html = product_html(&Product::default()).replace(
        "</article>",
        r#"<div class="sub-header"><h2>Products you recently viewed</h2></div>
<ol class="row"><li><article class="product_pod"><p class="star-rating One"></p>
<h3><a href="../other_2/index.html">Other</a></h3></article></li></ol></article>"#,
    );
    let book = parse_product(&html, &url(PRODUCT_URL), &url(BASE)).unwrap();
    assert_eq!(book.rating.stars(), 3);
    assert_eq!(book.title, "A Light in the Attic");
}
