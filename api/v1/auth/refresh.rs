//! POST /api/v1/auth/refresh

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::AuthRefresh)
}
