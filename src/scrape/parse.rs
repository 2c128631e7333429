//! Pure extraction: a listing or product page's HTML (plus the URL it came
//! from) in, domain values out. No I/O here; every function is deterministic
//! and tested on small HTML fixtures.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};
use thiserror::Error;
use url::Url;

use crate::CANONICAL_BASE_URL;
use crate::domain::{Book, BookId, DomainError, Price, Rating};

/// Why a page could not be turned into domain values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// An element or table row the page must have is absent (a truncated or
    /// foreign page).
    #[error("missing {0}")]
    Missing(&'static str),
    /// A field is present but its text does not parse.
    #[error("invalid {field}: {value:?}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// The text found.
        value: String,
    },
    /// A field's text does not fit its domain type.
    #[error("invalid {field}: {source}")]
    Domain {
        /// Which field.
        field: &'static str,
        /// What the domain type said.
        source: DomainError,
    },
    /// A link that does not resolve against the page URL.
    #[error("bad link {href:?}: {source}")]
    Link {
        /// The `href`/`src` as written.
        href: String,
        /// Why it does not resolve.
        source: url::ParseError,
    },
    /// A listing page says more pages follow but has no "next" link (a
    /// page cut short).
    #[error("no next link on page {page} of {of}")]
    NoNextLink {
        /// This page's number.
        page: u32,
        /// The number of listing pages.
        of: u32,
    },
}

/// What a listing page (`catalogue/page-N.html`, a category page) offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingPage {
    /// Product page URLs, absolute, resolved against the listing's own URL,
    /// in page order.
    pub products: Vec<Url>,
    /// The "next" page, if any.
    pub next: Option<Url>,
    /// The total the site reports ("<strong>1000</strong> results"), when shown.
    pub reported_total: Option<u32>,
    /// Where the page is among the listing pages ("Page 3 of 50"), when shown.
    pub position: Option<PagePosition>,
}

/// A listing page's "Page 3 of 50".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePosition {
    /// This page's number, from 1.
    pub page: u32,
    /// The number of listing pages.
    pub of: u32,
}

fn selector(css: &str) -> Selector {
    // The selectors are constants of this file, checked by the tests.
    Selector::parse(css).unwrap_or_else(|e| panic!("invalid selector {css:?}: {e}"))
}

static PRODUCT_LINK: LazyLock<Selector> = LazyLock::new(|| selector("article.product_pod h3 a"));
static NEXT_LINK: LazyLock<Selector> = LazyLock::new(|| selector("ul.pager li.next a"));
static CURRENT_PAGE: LazyLock<Selector> = LazyLock::new(|| selector("ul.pager li.current"));
static RESULT_COUNT: LazyLock<Selector> =
    LazyLock::new(|| selector("form.form-horizontal > strong"));
static PRODUCT_MAIN: LazyLock<Selector> = LazyLock::new(|| selector("div.product_main"));
static H1: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
static STAR_RATING: LazyLock<Selector> = LazyLock::new(|| selector("p.star-rating"));
static BREADCRUMB_LINK: LazyLock<Selector> = LazyLock::new(|| selector("ul.breadcrumb li a"));
static INFO_ROW: LazyLock<Selector> = LazyLock::new(|| selector("table.table-striped tr"));
static TH: LazyLock<Selector> = LazyLock::new(|| selector("th"));
static TD: LazyLock<Selector> = LazyLock::new(|| selector("td"));
static DESCRIPTION_HEADER: LazyLock<Selector> =
    LazyLock::new(|| selector("div#product_description"));
static GALLERY_IMAGE: LazyLock<Selector> = LazyLock::new(|| selector("#product_gallery img"));

/// Parses a listing page fetched from `page_url`.
///
/// A page without any product link is an error: on this site every listing
/// page has at least one, so an empty one is a truncated or foreign page.
/// So is a page whose "Page i of N" has i < N but no "next" link: the crawl
/// would otherwise end there, short.
pub fn parse_listing(html: &str, page_url: &Url) -> Result<ListingPage, ParseError> {
    let doc = Html::parse_document(html);
    let products = doc
        .select(&PRODUCT_LINK)
        .map(|a| resolve(page_url, a.attr("href").unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    if products.is_empty() {
        return Err(ParseError::Missing("product links"));
    }
    let next = doc
        .select(&NEXT_LINK)
        .next()
        .map(|a| resolve(page_url, a.attr("href").unwrap_or_default()))
        .transpose()?;
    let reported_total = reported_total(&doc)?;
    let position = position(&doc)?;
    if let Some(PagePosition { page, of }) = position
        && page < of
        && next.is_none()
    {
        return Err(ParseError::NoNextLink { page, of });
    }
    Ok(ListingPage {
        products,
        next,
        reported_total,
        position,
    })
}

/// `<li class="current">Page 3 of 50</li>` in the pager.
fn position(doc: &Html) -> Result<Option<PagePosition>, ParseError> {
    let Some(current) = doc.select(&CURRENT_PAGE).next() else {
        return Ok(None);
    };
    let text = text_of(current);
    let numbers = text
        .trim()
        .strip_prefix("Page ")
        .and_then(|rest| rest.split_once(" of "))
        .and_then(|(page, of)| Some((page.trim().parse().ok()?, of.trim().parse().ok()?)));
    match numbers {
        Some((page, of)) if 1 <= page && page <= of => Ok(Some(PagePosition { page, of })),
        _ => Err(ParseError::Invalid {
            field: "page position",
            value: text.trim().to_owned(),
        }),
    }
}

/// `<strong>1000</strong> results - showing ...` (or `<strong>1</strong> result.`).
fn reported_total(doc: &Html) -> Result<Option<u32>, ParseError> {
    let Some(strong) = doc.select(&RESULT_COUNT).next() else {
        return Ok(None);
    };
    let says_results = strong
        .next_sibling()
        .and_then(|n| n.value().as_text())
        .is_some_and(|t| t.trim_start().starts_with("result"));
    if !says_results {
        return Ok(None);
    }
    let text = text_of(strong);
    let total = text.trim().parse().map_err(|_| ParseError::Invalid {
        field: "reported total",
        value: text.clone(),
    })?;
    Ok(Some(total))
}

/// Parses a product page fetched from `page_url`, where the scrape started
/// at `base_url`. Stored URLs are rewritten to [`CANONICAL_BASE_URL`].
pub fn parse_product(html: &str, page_url: &Url, base_url: &Url) -> Result<Book, ParseError> {
    let id = book_id_from_url(page_url)?;
    let doc = Html::parse_document(product_prefix(html));

    let main = doc
        .select(&PRODUCT_MAIN)
        .next()
        .ok_or(ParseError::Missing("product_main block"))?;
    let title = main
        .select(&H1)
        .next()
        .map(text_of)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(ParseError::Missing("title"))?;
    let rating = rating_of(main)?;

    let crumbs: Vec<ElementRef<'_>> = doc.select(&BREADCRUMB_LINK).collect();
    // Home > Books > <category> > (title, not a link)
    let category = match crumbs.as_slice() {
        [_, _, .., last] => text_of(*last).trim().to_owned(),
        _ => String::new(),
    };
    if category.is_empty() {
        return Err(ParseError::Missing("category in breadcrumb"));
    }

    let info = InfoTable::read(&doc);
    let upc = info.get("UPC")?.trim().to_owned();
    let product_type = info.get("Product Type")?.trim().to_owned();
    let price_excl_tax = price(info.get("Price (excl. tax)")?, "price excl. tax")?;
    let price_incl_tax = price(info.get("Price (incl. tax)")?, "price incl. tax")?;
    let tax = price(info.get("Tax")?, "tax")?;
    let (availability, stock) = availability(info.get("Availability")?)?;
    let reviews_text = info.get("Number of reviews")?;
    let review_count = reviews_text
        .trim()
        .parse()
        .map_err(|_| ParseError::Invalid {
            field: "number of reviews",
            value: reviews_text.to_owned(),
        })?;

    let description = description(&doc)?;

    let image_src = doc
        .select(&GALLERY_IMAGE)
        .next()
        .and_then(|img| img.attr("src"))
        .ok_or(ParseError::Missing("product image"))?;
    let image_url = canonicalize(&resolve(page_url, image_src)?, base_url);
    let product_url = canonicalize(page_url, base_url);

    Ok(Book {
        id,
        upc,
        title,
        category,
        price: price_incl_tax,
        price_excl_tax,
        tax,
        rating,
        availability,
        stock,
        review_count,
        product_type,
        description,
        image_url,
        product_url,
    })
}

/// Where the product information table starts; see [`product_prefix`].
const INFO_TABLE_START: &str = "<table class=\"table table-striped\">";
/// Markers of what the extractor reads; none may follow the cut.
const READ_MARKERS: [&str; 5] = [
    "product_description",
    "product_main",
    "breadcrumb",
    "product_gallery",
    "table-striped",
];

/// The part of a product page the extractor reads: everything up to the end
/// of the "Product Information" table, which the site puts after the
/// breadcrumb, gallery, main block and description. What follows (the
/// "recently viewed" products, footer, scripts) is often half the page, and
/// parsing is the scrape's main cost. The parser closes the elements left
/// open at the cut, so the tree before it is the same as the whole page's.
/// If any marker of what the extractor reads appears after the cut (another
/// layout), the whole page is returned.
fn product_prefix(html: &str) -> &str {
    let Some(start) = html.find(INFO_TABLE_START) else {
        return html;
    };
    let Some(end) = html[start..].find("</table>") else {
        return html;
    };
    let cut = start + end + "</table>".len();
    let rest = &html[cut..];
    if READ_MARKERS.iter().any(|m| rest.contains(m)) {
        return html;
    }
    &html[..cut]
}

/// The site's id from a product URL: `.../a-light-in-the-attic_1000/index.html`
/// (or without `index.html`) gives 1000.
pub fn book_id_from_url(url: &Url) -> Result<BookId, ParseError> {
    let invalid = || ParseError::Invalid {
        field: "book id in product URL",
        value: url.to_string(),
    };
    let mut segments = url
        .path_segments()
        .ok_or_else(invalid)?
        .filter(|s| !s.is_empty());
    let slug = segments.rfind(|s| *s != "index.html").ok_or_else(invalid)?;
    let (_, digits) = slug.rsplit_once('_').ok_or_else(invalid)?;
    digits.parse().map_err(|_| invalid())
}

/// Rewrites `url` so that the prefix `base_url` becomes
/// [`CANONICAL_BASE_URL`]: `http://127.0.0.1:8080/catalogue/x_1/index.html`
/// fetched with base `http://127.0.0.1:8080/` is stored as
/// `https://books.toscrape.com/catalogue/x_1/index.html`. A URL outside the
/// base is kept as it is (with `https` if it is on books.toscrape.com).
pub fn canonicalize(url: &Url, base_url: &Url) -> String {
    let text = url.as_str();
    if let Some(rest) = text.strip_prefix(base_url.as_str()) {
        return format!("{CANONICAL_BASE_URL}{rest}");
    }
    if url.host_str() == Some("books.toscrape.com") && url.scheme() == "http" {
        let mut https = url.clone();
        if https.set_scheme("https").is_ok() {
            return https.into();
        }
    }
    text.to_owned()
}

fn resolve(page_url: &Url, href: &str) -> Result<Url, ParseError> {
    if href.is_empty() {
        return Err(ParseError::Missing("link target"));
    }
    page_url.join(href).map_err(|source| ParseError::Link {
        href: href.to_owned(),
        source,
    })
}

fn text_of(el: ElementRef<'_>) -> String {
    el.text().collect()
}

fn rating_of(main: ElementRef<'_>) -> Result<Rating, ParseError> {
    let p = main
        .select(&STAR_RATING)
        .next()
        .ok_or(ParseError::Missing("star rating"))?;
    let word = p
        .value()
        .classes()
        .find(|c| *c != "star-rating")
        .ok_or(ParseError::Missing("star rating word"))?;
    Rating::from_word(word).map_err(|source| ParseError::Domain {
        field: "rating",
        source,
    })
}

fn price(text: &str, field: &'static str) -> Result<Price, ParseError> {
    Price::parse_gbp(text).map_err(|source| ParseError::Domain { field, source })
}

/// `In stock (22 available)` -> (`In stock`, 22); `Out of stock` -> (.., 0).
fn availability(text: &str) -> Result<(String, u32), ParseError> {
    let text = text.trim();
    let Some((before, after)) = text.split_once('(') else {
        return Ok((text.to_owned(), 0));
    };
    let invalid = || ParseError::Invalid {
        field: "availability",
        value: text.to_owned(),
    };
    let inside = after.strip_suffix(')').ok_or_else(invalid)?;
    let digits = inside.split_whitespace().next().ok_or_else(invalid)?;
    let stock = digits.parse().map_err(|_| invalid())?;
    Ok((before.trim().to_owned(), stock))
}

/// The paragraph right after the "Product Description" header; empty when
/// the page has no such block (two books of the site).
fn description(doc: &Html) -> Result<String, ParseError> {
    let Some(header) = doc.select(&DESCRIPTION_HEADER).next() else {
        return Ok(String::new());
    };
    let paragraph = header
        .next_siblings()
        .filter_map(ElementRef::wrap)
        .next()
        .filter(|el| el.value().name() == "p")
        .ok_or(ParseError::Missing("description paragraph"))?;
    Ok(text_of(paragraph))
}

/// The "Product Information" table as (header, value) pairs.
struct InfoTable<'a> {
    rows: Vec<(String, ElementRef<'a>)>,
}

impl<'a> InfoTable<'a> {
    fn read(doc: &'a Html) -> Self {
        let rows = doc
            .select(&INFO_ROW)
            .filter_map(|tr| {
                let th = tr.select(&TH).next()?;
                let td = tr.select(&TD).next()?;
                Some((text_of(th).trim().to_owned(), td))
            })
            .collect();
        InfoTable { rows }
    }

    fn get(&self, name: &'static str) -> Result<&'a str, ParseError> {
        let td = self
            .rows
            .iter()
            .find(|(th, _)| th == name)
            .map(|(_, td)| *td)
            .ok_or(ParseError::Missing(name))?;
        // Values are single text nodes on this site; join in case they are not.
        let mut texts = td.text();
        match (texts.next(), texts.next()) {
            (Some(only), None) => Ok(only),
            (None, _) => Ok(""),
            (Some(_), Some(_)) => Err(ParseError::Invalid {
                field: name,
                value: text_of(td),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_selector_parses() {
        for sel in [
            &PRODUCT_LINK,
            &NEXT_LINK,
            &CURRENT_PAGE,
            &RESULT_COUNT,
            &PRODUCT_MAIN,
            &H1,
            &STAR_RATING,
            &BREADCRUMB_LINK,
            &INFO_ROW,
            &TH,
            &TD,
            &DESCRIPTION_HEADER,
            &GALLERY_IMAGE,
        ] {
            LazyLock::force(sel);
        }
    }

    #[test]
    fn ids_from_urls() {
        let u = |s: &str| Url::parse(s).unwrap();
        let id = |s: &str| book_id_from_url(&u(s)).map(BookId::get);
        assert_eq!(id("https://x/catalogue/a-light_1000/index.html"), Ok(1000));
        assert_eq!(id("https://x/catalogue/a_b_7/"), Ok(7));
        assert!(id("https://x/catalogue/no-id/index.html").is_err());
        assert!(id("https://x/catalogue/zero_0/index.html").is_err());
    }

    #[test]
    fn product_prefix_stops_after_the_information_table() {
        let page = "<ul class=\"breadcrumb\"></ul><div class=\"product_main\"></div>\
            <table class=\"table table-striped\"><tr><th>UPC</th><td>x</td></tr></table>\
            <section>recently viewed</section>";
        assert!(product_prefix(page).ends_with("</tr></table>"));
        // Something the extractor reads after the table: the whole page.
        let later = format!("{page}<div id=\"product_description\"></div><p>d</p>");
        assert_eq!(product_prefix(&later), later);
        assert_eq!(product_prefix("<p>no table</p>"), "<p>no table</p>");
        let open = "<table class=\"table table-striped\"><tr>";
        assert_eq!(product_prefix(open), open);
    }

    #[test]
    fn page_positions() {
        let pos = |text: &str| {
            let html = format!("<ul class=\"pager\"><li class=\"current\">\n  {text}\n</li></ul>");
            position(&Html::parse_document(&html))
        };
        assert_eq!(
            pos("Page 3 of 50"),
            Ok(Some(PagePosition { page: 3, of: 50 }))
        );
        assert_eq!(
            pos("Page 50 of 50"),
            Ok(Some(PagePosition { page: 50, of: 50 }))
        );
        for bad in ["Page 51 of 50", "Page 0 of 50", "Page 3 of", "Page", "3/50"] {
            assert!(pos(bad).is_err(), "{bad}");
        }
        assert_eq!(position(&Html::parse_document("<p>no pager</p>")), Ok(None));
    }

    #[test]
    fn availability_text_and_stock() {
        assert_eq!(
            availability(" In stock (22 available) "),
            Ok(("In stock".into(), 22))
        );
        assert_eq!(availability("Out of stock"), Ok(("Out of stock".into(), 0)));
        assert!(availability("In stock (lots)").is_err());
    }

    #[test]
    fn canonical_urls() {
        let base = Url::parse("http://127.0.0.1:9/mirror/").unwrap();
        let u = Url::parse("http://127.0.0.1:9/mirror/catalogue/x_1/index.html").unwrap();
        assert_eq!(
            canonicalize(&u, &base),
            "https://books.toscrape.com/catalogue/x_1/index.html"
        );
        let live = Url::parse("http://books.toscrape.com/media/a.jpg").unwrap();
        assert_eq!(
            canonicalize(&live, &base),
            "https://books.toscrape.com/media/a.jpg"
        );
    }
}
