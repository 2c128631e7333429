//! What each `books` subcommand does, once `main` has parsed its
//! arguments: kept apart from the argument definitions so each file has
//! one job.

use std::path::PathBuf;
use std::process::ExitCode;

/// `books scrape`: crawl, then publish both files atomically, or report every
/// failure and leave `out_dir` untouched.
pub(crate) fn scrape(
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
    let publishing = std::time::Instant::now();
    let published = books::store::publish::publish(out_dir, &output.books, &meta)
        .with_context(|| format!("not published; {} left untouched", out_dir.display()))?;
    eprintln!(
        "wrote {} and {} ({} books, {} categories), published in {:.3} s",
        published.csv_path.display(),
        published.db_path.display(),
        published.book_count,
        published.category_count,
        publishing.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The meta fields `books build-db` was given.
pub(crate) struct BuildMeta {
    pub(crate) scraped_at: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) reported_total: Option<u32>,
}

/// `books build-db`: CSV -> SQLite, with the meta fields chosen as the
/// command's help says.
pub(crate) fn build_db(
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
pub(crate) fn validate(dir: &std::path::Path) -> ExitCode {
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
pub(crate) fn diff(
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
pub(crate) fn train(
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
    books::ml::compact::write_compact(&model, out)?;
    println!(
        "wrote {} and its compact twin {} (model {} version {}, {} classes, {} terms)",
        out.display(),
        books::ml::compact::compact_path(out).display(),
        model.name,
        model.version,
        model.classifier.classes.len(),
        model.vectorizer.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `books usage-report`: the HTML report to `html`, then the summary on stdout.
pub(crate) fn usage_report(logs: &[PathBuf], html: &std::path::Path) -> anyhow::Result<ExitCode> {
    use books::report;

    let usage = report::read_logs(logs, report::Limits::default())?;
    report::write_html(&usage, html)?;
    print!("{}", report::summary(&usage, html));
    Ok(ExitCode::SUCCESS)
}

/// `books synth`: the synthetic CSV, then one summary line on stderr.
pub(crate) fn synth(
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
pub(crate) fn hash_password() -> anyhow::Result<ExitCode> {
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
