//! GET /api/v1/categories

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::Categories)
}
