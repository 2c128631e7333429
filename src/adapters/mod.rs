//! The two ways requests arrive: as a Vercel function, or at the local server.

pub mod server;
pub mod vercel;
