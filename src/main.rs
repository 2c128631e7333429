//! The `books` command line: scrape | build-db | validate | diff | train |
//! hash-password | serve | usage-report | synth.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        /// Leave the similar books out (an empty table), for scale
        /// benchmarks only: their time grows with the square of the book
        /// count. /books/{id}/similar then answers an empty list, and
        /// `books validate` reports the table as wrong.
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

/// `books scrape`: crawl, then publish both files atomically, or report every
/// failure and leave `out_dir` untouched.
fn scrape(
    base_url: url::Url,
    out_dir: &std::path::Path,
    concurrency: usize,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    use books::scrape::{CrawlConfig, crawl, progress::Progress};

    let config = CrawlConfig {
        concurrency,
        ..CrawlConfig::new(base_url)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = Progress::new(quiet);
    let output = runtime.block_on(crawl(&config, &progress))?;
    let report = &output.report;
    eprintln!("scrape: {report}");
    if !report.is_complete() {
        for failure in &report.failures {
            eprintln!("failed: {failure}");
        }
        eprintln!(
            "error: {} page(s) failed; {} left untouched",
            report.failures.len(),
            out_dir.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let meta = books::store::ScrapeMeta {
        scraped_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        source: books::scrape::crawl::normalize_base(config.base_url).to_string(),
        reported_total: output.reported_total,
    };
    let published = books::store::publish::publish(out_dir, &output.books, &meta)
        .with_context(|| format!("not published; {} left untouched", out_dir.display()))?;
    eprintln!(
        "wrote {} and {} ({} books, {} categories)",
        published.csv_path.display(),
        published.db_path.display(),
        published.book_count,
        published.category_count
    );
    Ok(ExitCode::SUCCESS)
}

/// The meta fields `books build-db` was given.
struct BuildMeta {
    scraped_at: Option<String>,
    source: Option<String>,
    reported_total: Option<u32>,
}

/// `books build-db`: CSV -> SQLite, with the meta fields chosen as the
/// command's help says.
fn build_db(
    csv: &std::path::Path,
    db: &std::path::Path,
    given: BuildMeta,
    without_similar: bool,
    timings: bool,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    use books::store::build::{SimilarBooks, build_db_timed};
    use books::store::schema::meta_key;

    let BuildMeta {
        scraped_at,
        source,
        reported_total,
    } = given;
    let started = std::time::Instant::now();
    if let Some(at) = &scraped_at {
        humantime::parse_rfc3339(at)
            .with_context(|| format!("--scraped-at {at:?} is not an RFC 3339 UTC time"))?;
    }
    let books = match books::store::csv::read_csv(csv) {
        Err(books::store::csv::CsvError::Invalid { problems, .. }) => {
            for problem in &problems {
                println!("{}: {problem}", csv.display());
            }
            anyhow::bail!(
                "{} has {} problem(s); nothing built",
                csv.display(),
                problems.len()
            );
        }
        other => other?,
    };
    // Keep the provenance of the database being replaced, if there is one.
    let existing = if db.exists() {
        books::store::validate::read_meta(db)
            .with_context(|| format!("cannot read the meta of the existing {}", db.display()))?
    } else {
        Default::default()
    };
    let recorded = |key: &str| existing.get(key).cloned();
    let reported_total = match reported_total {
        Some(total) => Some(total),
        None => recorded(meta_key::REPORTED_TOTAL)
            .map(|t| t.parse::<u32>())
            .transpose()
            .with_context(|| format!("{} has a bad reported_total", db.display()))?,
    };
    let meta = books::store::ScrapeMeta {
        scraped_at: scraped_at
            .or_else(|| recorded(meta_key::SCRAPED_AT))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned()),
        source: source
            .or_else(|| recorded(meta_key::SOURCE))
            .unwrap_or_else(|| "unknown".to_owned()),
        reported_total,
    };
    let read = started.elapsed();
    let similar = if without_similar {
        SimilarBooks::Skip
    } else {
        SimilarBooks::Compute
    };
    let (summary, phases) = build_db_timed(&books, &meta, db, similar)?;
    if timings {
        eprintln!(
            "timings: read csv {:.3} s, {phases}; total {:.3} s",
            read.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    println!(
        "wrote {} ({} books, {} categories, content hash {})",
        db.display(),
        summary.book_count,
        summary.category_count,
        summary.content_hash
    );
    // Building is mechanical; say so when the data would not pass validate.
    let report = books::store::validate::validate_books(&books, &meta);
    for problem in &report.problems {
        eprintln!("warning: {problem}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `books validate`: every problem on stdout, then a one-line summary; the
/// exit code says whether there was any problem.
fn validate(dir: &std::path::Path) -> ExitCode {
    let report = books::store::validate::validate_dir(dir);
    for problem in &report.problems {
        println!("{problem}");
    }
    if report.is_ok() {
        println!("{}: {report}", dir.display());
        ExitCode::SUCCESS
    } else {
        eprintln!("error: {}: {report}", dir.display());
        ExitCode::FAILURE
    }
}

/// `books diff`: the change summary between two data directories.
fn diff(
    old_dir: &std::path::Path,
    new_dir: &std::path::Path,
    max_rows: usize,
    max_drop_percent: Option<f64>,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let read = |dir: &std::path::Path| {
        let path = dir.join("books.csv");
        books::store::csv::read_csv(&path).with_context(|| format!("reading {}", path.display()))
    };
    let (old, new) = (read(old_dir)?, read(new_dir)?);
    let report = books::store::diff::diff(&old, &new);
    print!("{}", report.to_markdown(max_rows));
    match max_drop_percent {
        Some(max) if report.shrank_beyond(max) => {
            let refusal = format!(
                "refused: {} books fewer than before ({} -> {}), more than the allowed {max}%",
                report.books_lost(),
                report.old_count,
                report.new_count
            );
            println!("\n**{refusal}.**");
            eprintln!("error: {refusal}");
            Ok(ExitCode::FAILURE)
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `books train`: fit, report, and write the model only if it beats the
/// baseline clearly.
fn train(
    data: &std::path::Path,
    out: &std::path::Path,
    seed: u64,
    test_size: f64,
    min_lift: f64,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    use books::ml::card::DataIdentity;
    use books::ml::split::SplitRule;
    use books::ml::train::{TrainOptions, train};
    use books::store::schema::meta_key;

    let csv = data.join("books.csv");
    let books =
        books::store::csv::read_csv(&csv).with_context(|| format!("reading {}", csv.display()))?;
    let db = data.join("books.db");
    let scraped_at = if db.is_file() {
        books::store::validate::read_meta(&db)
            .with_context(|| format!("reading the meta of {}", db.display()))?
            .remove(meta_key::SCRAPED_AT)
    } else {
        None
    };
    let identity = DataIdentity {
        content_hash: books::store::csv::content_hash(&books),
        scraped_at,
        books: books.len(),
    };
    let options = TrainOptions {
        split: SplitRule { seed, test_size },
        ..TrainOptions::default()
    };
    let started = std::time::Instant::now();
    let model = train(&books, identity, &options)?;
    let card = &model.card;
    eprintln!("candidates (chosen by cross-validated macro-F1 on the train split):");
    eprintln!(
        "  {:<52} {:>7} {:>7} {:>8} {:>8} {:>9}",
        "candidate", "cv-F1", "cv-acc", "test-F1", "test-acc", "test-top3"
    );
    for result in &card.selection.candidates {
        eprintln!(
            "  {:<52} {:>7.3} {:>7.3} {:>8.3} {:>8.3} {:>9.3}",
            result.candidate.to_string(),
            result.cv_macro_f1,
            result.cv_accuracy,
            result.test_macro_f1,
            result.test_accuracy,
            result.test_top3_accuracy
        );
    }
    let (m, b) = (&card.evaluation.model, &card.evaluation.majority_baseline);
    eprintln!(
        "held-out ({} books): accuracy {:.3} vs baseline {:.3}; top-3 {:.3} vs {:.3}; macro-F1 {:.3} vs {:.3}",
        m.books, m.accuracy, b.accuracy, m.top3_accuracy, b.top3_accuracy, m.macro_f1, b.macro_f1
    );
    let calibration = &card.calibration;
    eprintln!(
        "calibration: temperature {:.3}; log loss out of fold {:.3} -> {:.3}, on {} test books {:.3} (uniform {:.3})",
        calibration.temperature,
        calibration.cv_log_loss_before,
        calibration.cv_log_loss_after,
        calibration.test_books,
        calibration.test_log_loss,
        calibration.test_uniform_log_loss
    );
    for finding in &card.other_targets {
        eprintln!("{}: {}", finding.target, finding.conclusion);
    }
    eprintln!("trained in {:.1} s", started.elapsed().as_secs_f64());
    let lift = min_lift / 100.0;
    if m.accuracy < b.accuracy + lift || m.top3_accuracy < b.top3_accuracy + lift {
        eprintln!(
            "error: the model does not beat the majority baseline by {min_lift} points on accuracy and top-3; {} left untouched",
            out.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    model.write(out)?;
    println!(
        "wrote {} (model {} version {}, {} classes, {} terms)",
        out.display(),
        model.name,
        model.version,
        model.classifier.classes.len(),
        model.vectorizer.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `books usage-report`: the HTML report to `html`, then the summary on stdout.
fn usage_report(logs: &[PathBuf], html: &std::path::Path) -> anyhow::Result<ExitCode> {
    use books::observe::report;

    let usage = report::read_logs(logs, report::Limits::default())?;
    report::write_html(&usage, html)?;
    print!("{}", report::summary(&usage, html));
    Ok(ExitCode::SUCCESS)
}

/// `books synth`: the synthetic CSV, then one summary line on stderr.
fn synth(
    count: u64,
    seed: u64,
    from: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    use books::store::synth::{Profile, check_count, synth_csv};

    let count = check_count(count)?;
    let started = std::time::Instant::now();
    let profile = Profile::from_csv(from)?;
    let summary = synth_csv(&profile, count, seed, out)?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {} ({} books, {} bytes, seed {seed}, drawn from the {} books of {}) in {seconds:.2} s",
        out.display(),
        summary.books,
        summary.bytes,
        profile.source_books(),
        from.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `books hash-password`: the PHC string on stdout, nothing else.
fn hash_password() -> anyhow::Result<ExitCode> {
    use std::io::{BufRead as _, IsTerminal as _};

    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(first == again, "the passwords differ; nothing printed");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    let hash = books::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
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
