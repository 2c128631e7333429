//! GET /api/v1/books/{id}

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::BookById)
}
