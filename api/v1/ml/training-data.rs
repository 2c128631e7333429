//! GET /api/v1/ml/training-data

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::MlTrainingData)
}
