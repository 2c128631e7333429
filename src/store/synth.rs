//! `books synth`: a synthetic catalogue of any size, in the data contract of
//! `data/books.csv` (written by [`push_record`], the CSV writer itself),
//! drawn from a real catalogue's distributions, for measuring how the
//! database and the API behave at scale.
//!
//! What is drawn from the source, each from its empirical distribution:
//! the category (so the shares match); the price from the prices of that
//! category, smoothed by up to ±[`PRICE_JITTER_PENCE`] and kept within the
//! source's range; the tax; the rating, stock, availability text, review
//! count and product type; the title's and the description's length in
//! words. The words come from a bigram chain over the source's titles
//! (titles) and descriptions (descriptions), so word frequencies, and with
//! them the full-text index, trigram search and TF-IDF, behave like the real
//! text's. Ids are 1..=N; UPCs and image names are a bijective mix of the
//! id and seed, so they never repeat. The same source, count and seed give
//! the same bytes.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::build::TempPath;
use super::csv::{CsvError, push_header, push_record, read_csv};
use crate::CANONICAL_BASE_URL;
use crate::domain::{Book, BookId, Price, Rating};

/// The largest catalogue `books synth` writes: ten times the largest the
/// scale benchmark measures (about 17 GB of CSV at the real text lengths).
pub const MAX_BOOKS: u32 = 10_000_000;

/// How far a drawn price moves from the source price it was drawn from, so
/// that a large catalogue has more distinct prices than the source.
pub const PRICE_JITTER_PENCE: i64 = 50;

/// Why a synthetic catalogue was not written.
#[derive(Debug, Error)]
pub enum SynthError {
    #[error("the book count must be from 1 to {MAX_BOOKS}, got {0}")]
    Count(u64),
    #[error("cannot read the source catalogue: {0}")]
    Source(#[from] CsvError),
    #[error("{path} holds no books to draw from")]
    EmptySource { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// What a synthetic catalogue was written from and how big it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthSummary {
    pub books: u32,
    pub bytes: u64,
}

/// A value drawn uniformly from the source's values, one per source book: its
/// empirical distribution.
#[derive(Debug, Clone)]
struct Empirical<T>(Vec<T>);

impl<T> Empirical<T> {
    fn draw(&self, rng: &mut fastrand::Rng) -> &T {
        &self.0[rng.usize(..self.0.len())]
    }
}

/// A first-order Markov chain over the words (whitespace-separated, with
/// their punctuation) of a set of texts.
#[derive(Debug, Clone, Default)]
struct WordChain {
    words: Vec<String>,
    /// The first word of every non-empty text.
    starts: Vec<u32>,
    /// The words following word `w` are
    /// `followers[offsets[w]..offsets[w + 1]]`, each as often as in the texts.
    offsets: Vec<u32>,
    followers: Vec<u32>,
}

impl WordChain {
    fn fit<'a>(texts: impl Iterator<Item = &'a str>) -> Self {
        let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut words: Vec<&str> = Vec::new();
        let mut starts = Vec::new();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for text in texts {
            let mut previous: Option<u32> = None;
            for word in text.split_whitespace() {
                let id = *ids.entry(word).or_insert_with(|| {
                    words.push(word);
                    words.len() as u32 - 1
                });
                match previous {
                    None => starts.push(id),
                    Some(p) => pairs.push((p, id)),
                }
                previous = Some(id);
            }
        }
        // Sorted, so the chain (and every draw from it) does not depend on
        // the hash map's order.
        pairs.sort_unstable();
        let mut offsets = vec![0u32; words.len() + 1];
        for &(from, _) in &pairs {
            offsets[from as usize + 1] += 1;
        }
        for w in 0..words.len() {
            offsets[w + 1] += offsets[w];
        }
        WordChain {
            words: words.into_iter().map(str::to_owned).collect(),
            starts,
            offsets,
            followers: pairs.into_iter().map(|(_, to)| to).collect(),
        }
    }

    /// Appends `count` words to `out`, separated by spaces: a walk from a
    /// start word, restarting from another when a word was never followed.
    fn walk(&self, rng: &mut fastrand::Rng, count: usize, out: &mut String) {
        if self.starts.is_empty() {
            return;
        }
        let mut word = self.starts[rng.usize(..self.starts.len())];
        for i in 0..count {
            if i > 0 {
                out.push(' ');
                let (from, to) = (
                    self.offsets[word as usize] as usize,
                    self.offsets[word as usize + 1] as usize,
                );
                word = if from < to {
                    self.followers[rng.usize(from..to)]
                } else {
                    self.starts[rng.usize(..self.starts.len())]
                };
            }
            out.push_str(&self.words[word as usize]);
        }
    }
}

/// The empirical distributions of a source catalogue that synthetic books
/// are drawn from.
#[derive(Debug, Clone)]
pub struct Profile {
    source_books: usize,
    /// Category names, and one category index per source book.
    categories: Vec<String>,
    category: Empirical<usize>,
    /// Per category: its books' (price excluding tax, tax) in pence.
    prices: Vec<Empirical<(u64, u64)>>,
    price_excl_range: (u64, u64),
    rating: Empirical<Rating>,
    stock: Empirical<u32>,
    review_count: Empirical<u32>,
    availability: Empirical<String>,
    product_type: Empirical<String>,
    title_words: Empirical<usize>,
    description_words: Empirical<usize>,
    titles: WordChain,
    descriptions: WordChain,
}

impl Profile {
    /// The distributions of the books in the CSV at `path`.
    pub fn from_csv(path: &Path) -> Result<Self, SynthError> {
        let books = read_csv(path)?;
        Profile::of(&books).ok_or_else(|| SynthError::EmptySource {
            path: path.to_owned(),
        })
    }

    /// The distributions of `books`; `None` when there is none.
    pub fn of(books: &[Book]) -> Option<Self> {
        if books.is_empty() {
            return None;
        }
        let mut categories: Vec<String> = books.iter().map(|b| b.category.clone()).collect();
        categories.sort();
        categories.dedup();
        let index_of = |name: &str| categories.binary_search_by(|c| c.as_str().cmp(name));
        let mut prices = vec![Vec::new(); categories.len()];
        let mut category = Vec::with_capacity(books.len());
        for book in books {
            let index = index_of(&book.category).unwrap_or_default();
            category.push(index);
            prices[index].push((book.price_excl_tax.pence(), book.tax.pence()));
        }
        let excl = books.iter().map(|b| b.price_excl_tax.pence());
        // At least a penny: validation refuses a price of 0.
        let price_excl_range = (
            excl.clone().min().unwrap_or(1).max(1),
            excl.max().unwrap_or(1).max(1),
        );
        let collect = |f: &dyn Fn(&Book) -> String| Empirical(books.iter().map(f).collect());
        let word_count = |text: &str| text.split_whitespace().count();
        Some(Profile {
            source_books: books.len(),
            categories,
            category: Empirical(category),
            prices: prices.into_iter().map(Empirical).collect(),
            price_excl_range,
            rating: Empirical(books.iter().map(|b| b.rating).collect()),
            stock: Empirical(books.iter().map(|b| b.stock).collect()),
            review_count: Empirical(books.iter().map(|b| b.review_count).collect()),
            availability: collect(&|b| b.availability.clone()),
            product_type: collect(&|b| b.product_type.clone()),
            // A title needs a word: validation refuses an empty one.
            title_words: Empirical(books.iter().map(|b| word_count(&b.title).max(1)).collect()),
            description_words: Empirical(
                books.iter().map(|b| word_count(&b.description)).collect(),
            ),
            titles: WordChain::fit(books.iter().map(|b| b.title.as_str())),
            descriptions: WordChain::fit(books.iter().map(|b| b.description.as_str())),
        })
    }

    /// How many books the distributions were taken from.
    pub fn source_books(&self) -> usize {
        self.source_books
    }

    /// Synthetic book `id` (the next draws of `rng`); `seed` keys its UPC and
    /// image name.
    fn book(&self, rng: &mut fastrand::Rng, id: BookId, seed: u64) -> Book {
        let category = *self.category.draw(rng);
        let (excl, tax) = *self.prices[category].draw(rng);
        let (low, high) = self.price_excl_range;
        let jittered = excl as i64 + rng.i64(-PRICE_JITTER_PENCE..=PRICE_JITTER_PENCE);
        let excl = (jittered.max(0) as u64).clamp(low, high);

        let mut title = String::new();
        let words = *self.title_words.draw(rng);
        self.titles.walk(rng, words, &mut title);
        if title.trim().is_empty() {
            title = format!("Book {id}");
        }
        let mut description = String::new();
        let words = *self.description_words.draw(rng);
        self.descriptions.walk(rng, words, &mut description);

        let upc = format!("{:016x}", mix(seed, u64::from(id.get())));
        let image = format!(
            "{:016x}{:016x}",
            mix(seed ^ IMAGE_KEY, u64::from(id.get())),
            rng.u64(..)
        );
        Book {
            id,
            upc,
            category: self.categories[category].clone(),
            price: Price::from_pence(excl + tax),
            price_excl_tax: Price::from_pence(excl),
            tax: Price::from_pence(tax),
            rating: *self.rating.draw(rng),
            availability: self.availability.draw(rng).clone(),
            stock: *self.stock.draw(rng),
            review_count: *self.review_count.draw(rng),
            product_type: self.product_type.draw(rng).clone(),
            description,
            image_url: format!(
                "{CANONICAL_BASE_URL}media/cache/{}/{}/{image}.jpg",
                &image[..2],
                &image[2..4]
            ),
            product_url: format!(
                "{CANONICAL_BASE_URL}catalogue/{}_{id}/index.html",
                product_slug(&title)
            ),
            title,
        }
    }
}

/// Keys the image names apart from the UPCs of the same seed.
const IMAGE_KEY: u64 = 0x5eed_1a6e_0000_0001;

/// A bijection of `value` for a given `seed` (an offset, then the SplitMix64
/// finaliser, itself a bijection), so distinct ids give distinct UPCs.
fn mix(seed: u64, value: u64) -> u64 {
    let mut z = value.wrapping_add(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The site's product slug of a title: lowercase ASCII letters and digits,
/// words joined by `-`, other characters dropped
/// (`Alice's Adventures #1` -> `alices-adventures-1`).
fn product_slug(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    let mut gap = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !slug.is_empty() {
                slug.push('-');
            }
            gap = false;
            slug.push(c.to_ascii_lowercase());
        } else if c.is_whitespace() || c == '-' {
            gap = true;
        }
    }
    if slug.is_empty() {
        slug.push_str("book");
    }
    slug
}

/// Checks a requested book count.
pub fn check_count(count: u64) -> Result<u32, SynthError> {
    match u32::try_from(count) {
        Ok(n) if (1..=MAX_BOOKS).contains(&n) => Ok(n),
        _ => Err(SynthError::Count(count)),
    }
}

/// Writes the CSV of `count` synthetic books (ids 1..=count) drawn from
/// `profile` with `seed` to `writer`, one record at a time; returns the
/// bytes written.
pub fn write_synth<W: Write>(
    profile: &Profile,
    count: u32,
    seed: u64,
    writer: &mut W,
) -> io::Result<u64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut line = String::with_capacity(4096);
    push_header(&mut line);
    let mut bytes = 0u64;
    for id in 1..=count {
        // 1..=count holds no 0.
        let id = BookId::new(id).map_err(io::Error::other)?;
        push_record(&mut line, &profile.book(&mut rng, id, seed));
        writer.write_all(line.as_bytes())?;
        bytes += line.len() as u64;
        line.clear();
    }
    Ok(bytes)
}

/// Writes the synthetic catalogue to `out` (its directory created if
/// needed) through a temporary file renamed into place, so `out` is never
/// left half-written.
pub fn synth_csv(
    profile: &Profile,
    count: u32,
    seed: u64,
    out: &Path,
) -> Result<SynthSummary, SynthError> {
    let write_err = |source| SynthError::Write {
        path: out.to_owned(),
        source,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(write_err)?;
    }
    let temp = TempPath::next_to(out);
    let file = File::create(temp.path()).map_err(write_err)?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let bytes = write_synth(profile, count, seed, &mut writer).map_err(write_err)?;
    let file = writer.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(write_err)?;
    fs::rename(temp.path(), out).map_err(write_err)?;
    temp.disarm();
    Ok(SynthSummary {
        books: count,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_site() {
        assert_eq!(
            product_slug("Alice in Wonderland (Alice's Adventures in Wonderland #1)"),
            "alice-in-wonderland-alices-adventures-in-wonderland-1"
        );
        assert_eq!(
            product_slug("1,000 Places to See Before You Die"),
            "1000-places-to-see-before-you-die"
        );
        assert_eq!(product_slug("Eat, Pray, Love"), "eat-pray-love");
        assert_eq!(product_slug("«»"), "book");
    }

    #[test]
    fn the_mix_is_injective_over_ids() {
        let mut upcs: Vec<u64> = (1..=100_000).map(|id| mix(7, id)).collect();
        upcs.sort_unstable();
        upcs.dedup();
        assert_eq!(upcs.len(), 100_000);
    }

    #[test]
    fn the_chain_only_walks_seen_pairs() {
        let chain = WordChain::fit(["a b c", "b d"].into_iter());
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..50 {
            let mut out = String::new();
            chain.walk(&mut rng, 3, &mut out);
            let words: Vec<&str> = out.split(' ').collect();
            assert_eq!(words.len(), 3);
            assert!(["a", "b"].contains(&words[0]), "{out}");
            for pair in words.windows(2) {
                // A seen pair, or a restart after a word never followed.
                let seen = ["a b", "b c", "b d"].contains(&pair.join(" ").as_str());
                let restart = ["c", "d"].contains(&pair[0]) && ["a", "b"].contains(&pair[1]);
                assert!(seen || restart, "{out}");
            }
        }
    }

    #[test]
    fn counts_out_of_range_are_refused() {
        assert!(check_count(0).is_err());
        assert!(check_count(u64::from(MAX_BOOKS) + 1).is_err());
        assert!(check_count(u64::MAX).is_err());
        assert_eq!(check_count(5).unwrap(), 5);
    }
}
