//! POST /api/v1/auth/login

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::AuthLogin)
}
