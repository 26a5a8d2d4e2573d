//! Logging with `tracing`: to stderr, and to journald when running under systemd.
//!
//! Nothing personal is ever logged: the types that carry citizen data redact themselves in `Debug`,
//! and the flows log pages and event kinds, not values. `RUST_LOG` sets the filter (default `info`),
//! as `level` or `target=level,…` (no regular expressions: the kiosk does not need them).
//!
//! Under systemd, records go to journald with their structured fields. Stderr gets them too, unless
//! stderr *is* the journal (systemd says so in `JOURNAL_STREAM`, the device and inode of the stream it
//! connected): then writing both would store every line twice.

use std::os::unix::fs::MetadataExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Installs the global subscriber.
pub fn init() {
    // An unreadable filter falls back to info rather than silencing the kiosk.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        // winit's complaints about a display without settings or size are noise on kiosks.
        .unwrap_or_else(|| {
            Targets::new()
                .with_default(tracing::Level::INFO)
                .with_target("winit", tracing::Level::ERROR)
        });
    let journal_stream = std::env::var("JOURNAL_STREAM").ok();
    let journald = journal_stream
        .as_ref()
        .and_then(|_| tracing_journald::layer().ok())
        .map(|layer| layer.with_syslog_identifier("hallkiosk".into()));
    let stderr_is_journal = journal_stream
        .as_deref()
        .and_then(parse_journal_stream)
        .is_some_and(|(dev, ino)| {
            std::fs::metadata("/proc/self/fd/2").is_ok_and(|m| m.dev() == dev && m.ino() == ino)
        });
    let stderr = (journald.is_none() || !stderr_is_journal)
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    // A second init (tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(journald)
        .with(stderr)
        .try_init();
}

/// `JOURNAL_STREAM` is `DEVICE:INODE` in decimal.
fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_device_and_inode() {
        assert_eq!(parse_journal_stream("8:123456"), Some((8, 123456)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(parse_journal_stream("x:1"), None);
    }
}
