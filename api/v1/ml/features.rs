//! GET /api/v1/ml/features

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::MlFeatures)
}
