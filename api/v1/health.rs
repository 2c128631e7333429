//! GET /api/v1/health

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::Health)
}
