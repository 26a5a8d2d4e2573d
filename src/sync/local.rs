//! The sync daemon's local socket (`<data_dir>/sync.sock`): the kiosk process has no network (its
//! unit allows only local sockets), so what must reach the platform while a citizen waits — a
//! queue number, the live state of their submissions — goes through the daemon.
//!
//! One request per connection, one JSON line each way. The kiosk gives the daemon at most
//! [`ASK_TIMEOUT`] to answer; past that it falls back (local ticket numbering, the cached state)
//! and says so on screen.

use super::adapter::PlatformAdapter;
use crate::outbox::Outbox;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// The socket's file name in the data directory.
pub const SOCKET: &str = "sync.sock";
/// How long the kiosk waits for an answer (the citizen is waiting).
pub const ASK_TIMEOUT: Duration = Duration::from_secs(2);
/// Most tracking codes one lookup asks about.
pub const LOOKUP_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    Ticket { category: String },
    Lookup { tracking_codes: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Ticket(hallkiosk_api::IssuedTicket),
    /// (tracking code, platform state) for the codes the platform has.
    Lookup {
        states: Vec<(String, String)>,
    },
    Error(String),
}

/// Serves the socket at `path` until the task is dropped.
pub async fn serve<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
    path: &Path,
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // A socket left by an earlier run (the daemon holds the data directory's lock, so no other
    // daemon is using it).
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path)?;
    // The kiosk UI connects as another user (hallkiosk) of the data directory's group
    // (hallkiosk-data, systemd/README.md); nobody else reaches into that directory.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    tracing::info!(socket = %path.display(), "serving the kiosk's live requests");
    loop {
        let (stream, _) = listener.accept().await?;
        // Requests are short and bounded by the platform request timeout; one at a time keeps
        // the daemon simple (a second kiosk request waits, and times out on its side if need be).
        let handled =
            tokio::time::timeout(Duration::from_secs(10), handle(outbox, adapter, stream));
        match handled.await {
            Ok(Err(e)) => tracing::warn!("local request failed: {e}"),
            Err(_) => tracing::warn!("local request timed out"),
            Ok(Ok(())) => {}
        }
    }
}

async fn handle<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
    stream: tokio::net::UnixStream,
) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read.take_limit(16 * 1024));
    reader.read_line(&mut line).await?;
    let reply = match serde_json::from_str::<Request>(&line) {
        Err(e) => Reply::Error(format!("bad request: {e}")),
        Ok(Request::Ticket { category }) => match adapter.ticket(&category).await {
            Ok(t) => Reply::Ticket(t),
            Err(e) => Reply::Error(e.to_string()),
        },
        Ok(Request::Lookup { tracking_codes }) => {
            let mut states = Vec::new();
            let mut failure = None;
            for code in tracking_codes.iter().take(LOOKUP_MAX) {
                match adapter.lookup(code).await {
                    Ok(Some(change)) => {
                        // The live answer refreshes the cache the next query falls back to.
                        outbox
                            .set_platform_state(&change.idempotency_key, &change.state)
                            .await?;
                        states.push((code.clone(), change.state));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        failure = Some(e.to_string());
                        break;
                    }
                }
            }
            match failure {
                Some(e) => Reply::Error(e),
                None => Reply::Lookup { states },
            }
        }
    };
    let mut out = serde_json::to_vec(&reply)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    Ok(())
}

trait TakeLimit: Sized {
    fn take_limit(self, n: u64) -> tokio::io::Take<Self>;
}

impl<T: tokio::io::AsyncRead> TakeLimit for T {
    fn take_limit(self, n: u64) -> tokio::io::Take<Self> {
        tokio::io::AsyncReadExt::take(self, n)
    }
}

/// Asks the daemon at `path`; an error (no daemon, no answer within `timeout`, the platform
/// unreachable) says why in plain words for the log.
pub fn ask(path: &Path, request: &Request, timeout: Duration) -> Result<Reply, String> {
    let deadline = Instant::now() + timeout;
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        format!(
            "the sync daemon is not reachable at {}: {e}",
            path.display()
        )
    })?;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    stream
        .set_write_timeout(Some(left()))
        .and_then(|()| stream.set_read_timeout(Some(left())))
        .map_err(|e| e.to_string())?;
    let mut line = serde_json::to_vec(request).map_err(|e| e.to_string())?;
    line.push(b'\n');
    stream
        .write_all(&line)
        .map_err(|e| format!("cannot ask the sync daemon: {e}"))?;
    let mut answer = String::new();
    BufReader::new(std::io::Read::take(&stream, 64 * 1024))
        .read_line(&mut answer)
        .map_err(|e| format!("no answer from the sync daemon within {timeout:?}: {e}"))?;
    match serde_json::from_str(&answer) {
        Ok(Reply::Error(e)) => Err(e),
        Ok(r) => Ok(r),
        Err(e) => Err(format!("a garbled answer from the sync daemon: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    fn ticket() -> Request {
        Request::Ticket {
            category: "A".into(),
        }
    }

    #[test]
    fn no_daemon_is_a_plain_error_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let e = ask(&dir.path().join(SOCKET), &ticket(), ASK_TIMEOUT).unwrap_err();
        assert!(e.contains("not reachable"), "{e}");
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn a_silent_daemon_is_given_up_on_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SOCKET);
        let listener = UnixListener::bind(&path).unwrap();
        let hold = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            std::thread::sleep(Duration::from_millis(800));
            drop(conn);
        });
        let started = Instant::now();
        let e = ask(&path, &ticket(), Duration::from_millis(300)).unwrap_err();
        let took = started.elapsed();
        assert!(e.contains("no answer"), "{e}");
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_millis(700),
            "{took:?}"
        );
        hold.join().unwrap();
    }

    #[test]
    fn answers_errors_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SOCKET);
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            for answer in [
                "{\"ticket\":{\"number\":\"A007\",\"ahead\":3,\"issued_at_ms\":5}}\n",
                "{\"error\":\"platform unreachable\"}\n",
                "garbage\n",
            ] {
                let (mut conn, _) = listener.accept().unwrap();
                let mut line = String::new();
                BufReader::new(&conn).read_line(&mut line).unwrap();
                assert_eq!(
                    serde_json::from_str::<Request>(&line).unwrap(),
                    Request::Ticket {
                        category: "A".into()
                    }
                );
                conn.write_all(answer.as_bytes()).unwrap();
            }
        });
        assert_eq!(
            ask(&path, &ticket(), ASK_TIMEOUT),
            Ok(Reply::Ticket(hallkiosk_api::IssuedTicket {
                number: "A007".into(),
                ahead: 3,
                issued_at_ms: 5
            }))
        );
        assert_eq!(
            ask(&path, &ticket(), ASK_TIMEOUT),
            Err("platform unreachable".into())
        );
        assert!(ask(&path, &ticket(), ASK_TIMEOUT)
            .unwrap_err()
            .contains("garbled"));
        server.join().unwrap();
    }
}
