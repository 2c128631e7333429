//! The `books` command line: scrape | build-db | validate | diff | train |
//! hash-password | serve | usage-report | synth.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
use commands::{
    BuildMeta, build_db, diff, hash_password, scrape, synth, train, usage_report, validate,
};

#[derive(Parser)]
#[command(
    name = "books",
    version,
    about = "Scrape, store and serve the books.toscrape.com catalogue"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scrape the whole catalogue into DIR/books.csv and DIR/books.db.
    Scrape {
        /// The site (or a mirror of it) to scrape.
        #[arg(long, default_value = books::CANONICAL_BASE_URL)]
        base_url: url::Url,
        /// Where books.csv and books.db go; left untouched if anything fails.
        #[arg(long, default_value = "data")]
        out_dir: PathBuf,
        /// Product pages fetched at once.
        #[arg(long, default_value_t = books::scrape::crawl::DEFAULT_CONCURRENCY as u16,
              value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
    },
    /// Build the SQLite database from the CSV alone (no network).
    ///
    /// Deterministic: the same CSV and meta give the same database, byte for
    /// byte. The meta table's scraped_at, source and reported_total come from
    /// the flags when given; else from the existing database at --db, when it
    /// records them; else scraped_at is 1970-01-01T00:00:00Z (unknown),
    /// source is "unknown" and reported_total is left out.
    BuildDb {
        /// The CSV to read.
        #[arg(long, default_value = "data/books.csv")]
        csv: PathBuf,
        /// The database to write (replaced atomically).
        #[arg(long, default_value = "data/books.db")]
        db: PathBuf,
        /// When the data was scraped (RFC 3339 UTC, e.g. 2026-11-27T09:00:00Z).
        #[arg(long)]
        scraped_at: Option<String>,
        /// The base URL the data was scraped from.
        #[arg(long)]
        source: Option<String>,
        /// The book count the site reported ("1000 results").
        #[arg(long)]
        reported_total: Option<u32>,
        /// Leave the similar books out (an empty table), for benchmarks
        /// that time the rest of the build alone. /books/{id}/similar then
        /// answers an empty list, and `books validate` reports the table as
        /// wrong.
        #[arg(long)]
        without_similar: bool,
        /// Print how long each step of the build took, on stderr.
        #[arg(long)]
        timings: bool,
    },
    /// Check DIR/books.csv against DIR/books.db and print every problem;
    /// exits non-zero if there is any.
    Validate {
        /// The directory holding books.csv and books.db.
        #[arg(long, default_value = "data")]
        dir: PathBuf,
    },
    /// Print, as Markdown, what changed from OLD_DIR/books.csv to
    /// NEW_DIR/books.csv: books added and removed, price and stock changes,
    /// with totals (the deploy workflow's job summary).
    Diff {
        /// The directory holding the old books.csv.
        old_dir: PathBuf,
        /// The directory holding the new books.csv.
        new_dir: PathBuf,
        /// At most this many rows in each list.
        #[arg(long, default_value_t = 50)]
        max_rows: usize,
        /// Exit non-zero (after printing the report) if the new data holds
        /// fewer books than the old by more than this percentage of the old.
        #[arg(long, value_parser = parse_percent)]
        max_drop_percent: Option<f64>,
    },
    /// Train the category model on DIR/books.csv and write the model file.
    ///
    /// Deterministic: the same books and options give the same file, byte
    /// for byte. Refuses (exit 1, nothing written) when the model does not
    /// beat the majority baseline on held-out accuracy and top-3 accuracy by
    /// --min-lift points each.
    Train {
        /// The directory holding books.csv (and books.db, whose scraped_at the
        /// card records when it is there).
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// The model file to write (replaced atomically).
        #[arg(long, default_value = books::ml::model::MODEL_RELATIVE_PATH)]
        out: PathBuf,
        /// The split's seed.
        #[arg(long, default_value_t = books::ml::split::DEFAULT_SEED)]
        seed: u64,
        /// The test split's share, in (0, 1).
        #[arg(long, default_value_t = books::ml::split::DEFAULT_TEST_SIZE, value_parser = parse_share)]
        test_size: f64,
        /// The least lift over the baseline, in percentage points, on both
        /// held-out accuracy and top-3 accuracy.
        #[arg(long, default_value_t = 10.0, value_parser = parse_percent)]
        min_lift: f64,
    },
    /// Print an argon2id hash of a password, for an entry of BOOKS_USERS
    /// (`name:hash:role`).
    ///
    /// On a terminal it prompts twice without echo; otherwise it reads the
    /// first line of stdin (e.g. `printf %s "$PW" | books hash-password`).
    HashPassword,
    /// Serve every API endpoint (and the docs) from one local server.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// The database to serve.
        #[arg(long, env = "BOOKS_DB", default_value = "data/books.db")]
        db: PathBuf,
        /// The site the scrape trigger scrapes when it runs in this process
        /// (no BOOKS_GITHUB_REPO); the new data is published next to --db.
        #[arg(long, default_value = books::CANONICAL_BASE_URL)]
        scrape_base_url: url::Url,
    },
    /// Read request log lines and write an HTML report and a text summary.
    ///
    /// Reads our JSON log lines as `books serve` prints them, and Vercel
    /// log entries whose `message` is one (Log Drain NDJSON or JSON arrays,
    /// `vercel logs --json`), plain or gzip. Other lines are skipped and
    /// counted by reason; a malformed line is never an error. Memory stays
    /// bounded whatever the log's size. Exits non-zero only when an input
    /// cannot be read or the report cannot be written.
    UsageReport {
        /// Log files (`-` is stdin); stdin when none is given.
        logs: Vec<PathBuf>,
        /// Where the self-contained HTML report goes.
        #[arg(long, default_value = "usage-report.html")]
        html: PathBuf,
    },
    /// Write a synthetic catalogue of N books in the data contract of
    /// books.csv, drawn from a real catalogue's distributions (categories,
    /// prices, ratings, stock, text lengths, word sequences), for scale
    /// benchmarks.
    ///
    /// Deterministic: the same source, N and seed give the same bytes.
    Synth {
        /// How many books (ids 1..=N).
        #[arg(long = "books", value_name = "N")]
        count: u64,
        /// The seed of every draw.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The real catalogue to draw from.
        #[arg(long, default_value = "data/books.csv")]
        from: PathBuf,
        /// The CSV to write (replaced atomically; its directory is created).
        #[arg(long, default_value = "synth/books.csv")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scrape {
            base_url,
            out_dir,
            concurrency,
            quiet,
        } => scrape(base_url, &out_dir, concurrency.into(), quiet),
        Command::BuildDb {
            csv,
            db,
            scraped_at,
            source,
            reported_total,
            without_similar,
            timings,
        } => build_db(
            &csv,
            &db,
            BuildMeta {
                scraped_at,
                source,
                reported_total,
            },
            without_similar,
            timings,
        ),
        Command::Validate { dir } => Ok(validate(&dir)),
        Command::Diff {
            old_dir,
            new_dir,
            max_rows,
            max_drop_percent,
        } => diff(&old_dir, &new_dir, max_rows, max_drop_percent),
        Command::Train {
            data,
            out,
            seed,
            test_size,
            min_lift,
        } => train(&data, &out, seed, test_size, min_lift),
        Command::HashPassword => hash_password(),
        Command::Serve {
            addr,
            db,
            scrape_base_url,
        } => books::adapters::server::run_blocking(addr, &db, scrape_base_url),
        Command::UsageReport { logs, html } => usage_report(&logs, &html),
        Command::Synth {
            count,
            seed,
            from,
            out,
        } => synth(count, seed, &from, &out),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A share strictly between 0 and 1.
fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(format!(
            "expected a share strictly between 0 and 1, got {text:?}"
        )),
    }
}

/// A percentage from 0 to 100.
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("expected a percentage from 0 to 100, got {text:?}")),
    }
}
