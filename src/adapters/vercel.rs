//! The Vercel function entry point: the only code that knows `vercel_runtime`.

use crate::http::Route;

/// Serves `route` as a Vercel function; the whole `main` of every `api/` file.
pub fn serve(_route: Route) -> std::process::ExitCode {
    std::process::ExitCode::FAILURE
}
