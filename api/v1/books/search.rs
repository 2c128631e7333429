//! GET /api/v1/books/search

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::BooksSearch)
}
