//! Logging with `tracing`: to stderr, or to the journal when running under systemd.
//!
//! Nothing personal is ever logged: the types that carry citizen data redact themselves in `Debug`,
//! and the flows log pages and event kinds, not values. `RUST_LOG` sets the filter (default `info`).

use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Under systemd (`JOURNAL_STREAM` is set) records go to journald
/// with their fields; elsewhere, or when the journal cannot be reached, to stderr.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let journald = if under_systemd {
        tracing_journald::layer().ok()
    } else {
        None
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = match journald {
        Some(layer) => registry
            .with(layer.with_syslog_identifier("hallkiosk".into()))
            .try_init(),
        None => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
    // A second init (tests) keeps the first subscriber; that is fine.
    drop(result);
}
