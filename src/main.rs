//! The `books` command line: scrape | build-db | validate | serve.

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
    /// Serve every API endpoint (and the docs) from one local server.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// The database to serve.
        #[arg(long, env = "BOOKS_DB", default_value = "data/books.db")]
        db: PathBuf,
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
        Command::Serve { addr, db } => books::adapters::server::run_blocking(addr, &db),
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
