//! GET /api/v1/ml/model

fn main() -> std::process::ExitCode {
    books::adapters::vercel::serve(books::http::Route::MlModel)
}
