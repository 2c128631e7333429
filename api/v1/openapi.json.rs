//! GET /api/v1/openapi.json

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::OpenApi)
}
