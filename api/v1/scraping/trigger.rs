//! POST /api/v1/scraping/trigger

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::ScrapingTrigger)
}
