//! The whole API as one AWS Lambda function: see [`books::adapters::lambda`].

fn main() -> std::process::ExitCode {
    books::adapters::lambda::serve()
}
