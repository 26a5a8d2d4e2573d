//! Logging with `tracing`: to stderr, or to the journal when running under systemd.
//!
//! Nothing personal is ever logged: the types that carry citizen data redact themselves in `Debug`,
//! and the flows log pages and event kinds, not values. `RUST_LOG` sets the filter (default `info`),
//! as `level` or `target=level,…` (no regular expressions: the kiosk does not need them).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Installs the global subscriber. Under systemd (`JOURNAL_STREAM` is set) records go to journald
/// with their fields; elsewhere, or when the journal cannot be reached, to stderr.
pub fn init() {
    // `RUST_LOG` as a list of `target=level` (or just `level`); an unreadable one falls back to info.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
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
