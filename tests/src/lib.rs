//! Shared parts of scopegate's cross-crate integration tests: a controllable identity
//! provider on 127.0.0.1 and a capture of `tracing` output.

pub mod idp;
pub mod log;

pub use idp::{DISCOVERED_JWKS_PATH, FALLBACK_JWKS_PATH, Idp, ManualClock, Metadata, Mode};
pub use log::CapturedLog;
