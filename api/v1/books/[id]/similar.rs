//! GET /api/v1/books/{id}/similar

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::BookSimilar)
}
