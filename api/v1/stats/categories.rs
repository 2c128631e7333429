//! GET /api/v1/stats/categories

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::StatsCategories)
}
