//! POST /api/v1/auth/token

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::AuthToken)
}
