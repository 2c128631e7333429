//! GET /api/v1/scraping/status

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::ScrapingStatus)
}
