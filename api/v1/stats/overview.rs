//! GET /api/v1/stats/overview

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::StatsOverview)
}
