//! GET /api/v1/books

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::Books)
}
