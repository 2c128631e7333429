//! GET /api/v1/books/top-rated

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::BooksTopRated)
}
