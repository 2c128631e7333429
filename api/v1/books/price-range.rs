//! GET /api/v1/books/price-range

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::BooksPriceRange)
}
