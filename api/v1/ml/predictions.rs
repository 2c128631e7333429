//! POST /api/v1/ml/predictions

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::MlPredictions)
}
