//! The sync daemon (`hallkiosk sync`): delivers the outbox to the platform exactly once, pulls the
//! catalog and status changes, and sends heartbeats (docs/sync.md).
//!
//! Exactly once = at-least-once delivery with the idempotency key made at enqueue time, resent on
//! every retry, and an entry marked accepted only after the platform said so. A crash leaves claimed
//! entries in `sending`; the next start puts them back to `queued` with their keys.

pub mod adapter;
pub mod cli;
pub mod local;
pub mod update;

use crate::outbox::{Outbox, OutboxError, Outcome};
use crate::shared::catalog::Catalog;
use crate::shared::clock::now_ms;
use adapter::{AdapterError, ItemVerdict, PlatformAdapter};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Full-jitter exponential backoff: `random(0, min(cap, base·2^attempt))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The ceiling for attempt `n` (0-based): `min(cap, base·2^n)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u64.checked_shl(attempt.min(40)).unwrap_or(u64::MAX);
        let ms = (self.base.as_millis() as u64).saturating_mul(factor);
        Duration::from_millis(ms).min(self.cap)
    }

    /// A delay drawn uniformly from `[0, ceiling(attempt)]`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(rng.gen_range(0..=ceiling))
    }
}

/// What the daemon needs besides the adapter.
#[derive(Debug, Clone)]
pub struct Settings {
    pub batch_size: i64,
    pub backoff: Backoff,
    pub heartbeat_every: Duration,
    pub pull_every: Duration,
    pub poll_every: Duration,
    pub data_dir: PathBuf,
    /// What is kept how long; purged every [`PURGE_EVERY`] (and once per `--once` run).
    pub retention: crate::shared::config::Retention,
}

/// How often the daemon purges what is past its end date.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

async fn purge(outbox: &Outbox, s: &Settings) {
    match crate::outbox::retention::purge_all(outbox, &s.data_dir, &s.retention, now_ms(), false)
        .await
    {
        Ok(p) if p.total() > 0 => tracing::info!(
            rejected_payloads = p.rejected_payloads,
            person_refs = p.person_refs,
            ratings = p.ratings,
            receipt_images = p.receipt_images,
            ledger_jobs = p.ledger_jobs.unwrap_or(0),
            "purged what was past its end date"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("purge failed: {e}"),
    }
}

/// Counts of one delivery pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub retried: usize,
    /// Claimed entries whose payload could not be opened or parsed: quarantined, not sent.
    pub quarantined: usize,
    /// The whole request failed (platform unreachable, failing, or refusing the kiosk).
    pub failed: bool,
}

/// Claims up to one batch of due entries, sends it and records the verdicts (one transaction).
pub async fn deliver_once<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
    s: &Settings,
    last_error: &mut Option<String>,
) -> Result<Pass, OutboxError> {
    let claim = outbox.claim(s.batch_size, now_ms()).await?;
    let claimed = claim.entries;
    let mut pass = Pass {
        sent: claimed.len(),
        quarantined: claim.quarantined,
        ..Pass::default()
    };
    if claimed.is_empty() {
        return Ok(pass);
    }
    let mut rng = rand::thread_rng();
    let retry_at = |attempts: i64, rng: &mut rand::rngs::ThreadRng| {
        let attempt = attempts.clamp(1, 64) as u32 - 1;
        now_ms() + s.backoff.delay(attempt, rng).as_millis() as i64
    };
    let outcomes: Vec<(String, Outcome)> = match adapter.push(&claimed).await {
        Ok(verdicts) => claimed
            .iter()
            .zip(verdicts)
            .map(|(c, v)| {
                let outcome = match v {
                    ItemVerdict::Accepted { platform_state } => {
                        pass.accepted += 1;
                        Outcome::Accepted { platform_state }
                    }
                    ItemVerdict::Rejected { reason } => {
                        pass.rejected += 1;
                        tracing::warn!(code = %c.tracking_code, "platform rejected a submission: {reason}");
                        Outcome::Rejected { reason }
                    }
                    ItemVerdict::Retry { reason } => {
                        pass.retried += 1;
                        Outcome::RetryAt {
                            at_ms: retry_at(c.attempts, &mut rng),
                            error: reason,
                        }
                    }
                };
                (c.idempotency_key.clone(), outcome)
            })
            .collect(),
        Err(e) => {
            pass.failed = true;
            pass.retried = claimed.len();
            let text = e.to_string();
            if matches!(e, AdapterError::Auth(_)) {
                tracing::error!("{text}");
            } else {
                tracing::warn!("{text}");
            }
            *last_error = Some(text.clone());
            claimed
                .iter()
                .map(|c| {
                    (
                        c.idempotency_key.clone(),
                        Outcome::RetryAt {
                            error: text.clone(),
                            at_ms: retry_at(c.attempts, &mut rng),
                        },
                    )
                })
                .collect()
        }
    };
    outbox.record_outcomes(&outcomes, now_ms()).await?;
    if !pass.failed {
        *last_error = None;
        outbox
            .set_sync_value(crate::outbox::LAST_CONTACT, &now_ms().to_string())
            .await?;
    }
    Ok(pass)
}

/// Delivers waiting ratings (好差评) in batches of up to 100; returns how many were delivered.
/// Ratings the platform refuses for good are marked delivered too (logged): they carry nothing a
/// later retry could fix, and must not block the ones behind them.
pub async fn deliver_ratings<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
) -> Result<usize, anyhow::Error> {
    let mut delivered = 0;
    loop {
        let waiting = outbox.unsent_ratings(100).await?;
        if waiting.is_empty() {
            return Ok(delivered);
        }
        let wire: Vec<hallkiosk_api::Rating> = waiting
            .iter()
            .map(|r| hallkiosk_api::Rating {
                idempotency_key: r.idempotency_key.clone(),
                service_item: r.rating.service_item.clone(),
                tracking_code: r.rating.tracking_code.clone(),
                level: r.rating.level,
                reason: r.rating.reason.clone(),
                created_at_ms: r.created_at_ms,
            })
            .collect();
        if let adapter::RatingsVerdict::Rejected(why) = adapter.ratings(&wire).await? {
            tracing::error!("the platform refused {} ratings: {why}", wire.len());
        }
        let keys: Vec<String> = waiting.into_iter().map(|r| r.idempotency_key).collect();
        outbox.ratings_sent(&keys, now_ms()).await?;
        delivered += keys.len();
        if keys.len() < 100 {
            return Ok(delivered);
        }
    }
}

/// Builds and sends a heartbeat from the outbox's numbers and the devices' last reported health.
pub async fn heartbeat<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
    last_error: Option<String>,
) -> Result<(), anyhow::Error> {
    let stats = outbox.stats(now_ms()).await?;
    let hb = hallkiosk_api::Heartbeat {
        software_version: env!("CARGO_PKG_VERSION").into(),
        outbox_depth: stats.depth(),
        oldest_unacknowledged_secs: stats.oldest_unacknowledged_secs,
        rejected: stats.rejected,
        quarantined: stats.quarantined,
        devices: outbox.device_health().await?,
        last_error,
        sent_at_ms: now_ms(),
    };
    adapter.heartbeat(&hb).await?;
    // The kiosk process has no network: this is how it knows whether to print the offline note.
    outbox
        .set_sync_value(crate::outbox::LAST_CONTACT, &now_ms().to_string())
        .await?;
    Ok(())
}

/// Pulls status changes (all pages) and records them; the cursor survives restarts.
pub async fn pull_status<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
) -> Result<usize, anyhow::Error> {
    let mut after: i64 = outbox
        .sync_value("status_after")
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut applied = 0;
    loop {
        let page = adapter.status_changes(after).await?;
        for c in &page.changes {
            if outbox
                .set_platform_state(&c.idempotency_key, &c.state)
                .await?
            {
                applied += 1;
            }
        }
        if page.changes.is_empty() || page.next_after <= after {
            break;
        }
        after = page.next_after;
        outbox
            .set_sync_value("status_after", &after.to_string())
            .await?;
    }
    Ok(applied)
}

/// Fetches a newer catalog and stores it as `<data_dir>/catalog/<version>.json` once it validates
/// with the kiosk's own rules (the UI uses the newest valid one at its next start).
pub async fn pull_catalog<A: PlatformAdapter>(
    adapter: &A,
    data_dir: &Path,
) -> Result<Option<String>, anyhow::Error> {
    let dir = data_dir.join("catalog");
    let have = Catalog::newest(&dir).ok().map(|(c, _)| c.version);
    let Some(doc) = adapter.catalog(have.as_deref()).await? else {
        return Ok(None);
    };
    if hallkiosk_api::version_key(&doc.version).is_none()
        || have.as_deref().and_then(hallkiosk_api::version_key)
            >= hallkiosk_api::version_key(&doc.version)
    {
        return Ok(None);
    }
    let text = serde_json::to_string_pretty(&doc.catalog)?;
    let origin = format!("platform catalog {}", doc.version);
    if let Err(e) = Catalog::parse(&text, &origin) {
        anyhow::bail!("{e}");
    }
    std::fs::create_dir_all(&dir)?;
    let name: String = doc
        .version
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let tmp = dir.join(format!(".{name}.json.tmp"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(format!("{name}.json")))?;
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(Some(doc.version))
}

async fn send_ratings<A: PlatformAdapter>(outbox: &Outbox, adapter: &A) {
    match deliver_ratings(outbox, adapter).await {
        Ok(n) if n > 0 => tracing::info!("{n} ratings delivered"),
        Ok(_) => {}
        Err(e) => tracing::warn!("ratings not delivered: {e}"),
    }
}

async fn pull<A: PlatformAdapter>(outbox: &Outbox, adapter: &A, data_dir: &Path) {
    match pull_status(outbox, adapter).await {
        Ok(n) if n > 0 => tracing::info!("{n} status changes from the platform"),
        Ok(_) => {}
        Err(e) => tracing::warn!("status pull failed: {e}"),
    }
    match pull_catalog(adapter, data_dir).await {
        Ok(Some(v)) => tracing::info!("stored catalog {v} from the platform"),
        Ok(None) => {}
        Err(e) => tracing::warn!("catalog pull failed: {e}"),
    }
}

/// How `run` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Until the process is stopped.
    Forever,
    /// Deliver everything due, heartbeat and pull once, then stop.
    Once,
}

/// The daemon's loop. Returns the number of entries still waiting (for `Mode::Once`).
pub async fn run<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
    s: &Settings,
    mode: Mode,
) -> Result<i64, anyhow::Error> {
    let recovered = outbox.recover_stuck(now_ms()).await?;
    if recovered > 0 {
        tracing::info!("{recovered} entries left in `sending` by an earlier run are queued again");
    }
    let mut last_error: Option<String> = None;
    let mut failures: u32 = 0;
    let mut next_heartbeat = tokio::time::Instant::now();
    let mut next_pull = tokio::time::Instant::now();
    let mut next_purge = tokio::time::Instant::now();
    let mut rng = rand::rngs::StdRng::from_entropy();
    loop {
        let pass = deliver_once(outbox, adapter, s, &mut last_error).await?;
        if pass.sent > 0 || pass.quarantined > 0 {
            tracing::info!(
                sent = pass.sent,
                quarantined = pass.quarantined,
                accepted = pass.accepted,
                rejected = pass.rejected,
                retried = pass.retried,
                "delivery pass"
            );
        }
        failures = if pass.failed { failures + 1 } else { 0 };
        if mode == Mode::Once {
            if pass.sent + pass.quarantined == s.batch_size as usize && !pass.failed {
                continue;
            }
            send_ratings(outbox, adapter).await;
            if let Err(e) = heartbeat(outbox, adapter, last_error.clone()).await {
                tracing::warn!("heartbeat not delivered: {e}");
            }
            pull(outbox, adapter, &s.data_dir).await;
            purge(outbox, s).await;
            return Ok(outbox.stats(now_ms()).await?.depth());
        }
        let now = tokio::time::Instant::now();
        if now >= next_heartbeat {
            send_ratings(outbox, adapter).await;
            if let Err(e) = heartbeat(outbox, adapter, last_error.clone()).await {
                tracing::warn!("heartbeat not delivered: {e}");
            }
            next_heartbeat = now + s.heartbeat_every;
        }
        if now >= next_pull {
            pull(outbox, adapter, &s.data_dir).await;
            next_pull = now + s.pull_every;
        }
        if now >= next_purge {
            purge(outbox, s).await;
            next_purge = now + PURGE_EVERY;
        }
        let wait = if pass.failed {
            // The platform is away: back off as a whole, with jitter, instead of hammering it.
            s.backoff
                .delay(failures.min(30), &mut rng)
                .max(s.poll_every)
        } else if pass.sent + pass.quarantined == s.batch_size as usize {
            Duration::ZERO
        } else {
            s.poll_every
        };
        tokio::time::sleep(wait).await;
    }
}

/// The credential name of the kiosk's platform token (`LoadCredential=platform-token:…`).
pub const TOKEN_CREDENTIAL: &str = "platform-token";
/// The token file in the data directory when neither a credential nor `token_file` is given.
pub const TOKEN_FILE: &str = "platform.token";

/// The kiosk's bearer token: the systemd credential when the process runs with credentials
/// (`$CREDENTIALS_DIRECTORY`; then it must be there), else (development) `token_file`, else the
/// data directory's `platform.token`.
pub fn load_token(token_file: Option<&Path>, data_dir: &Path) -> anyhow::Result<String> {
    use anyhow::Context;
    let path = match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(dir) => {
            let credential = PathBuf::from(dir).join(TOKEN_CREDENTIAL);
            anyhow::ensure!(
                credential.exists(),
                "no platform token credential {}: the unit has credentials but not `{TOKEN_CREDENTIAL}` \
                 (its LoadCredentialEncrypted={TOKEN_CREDENTIAL}:/etc/hallkiosk/credentials/{TOKEN_CREDENTIAL}.cred, \
                 sealed by scripts/provision --token-file)",
                credential.display()
            );
            credential
        }
        None => token_file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.join(TOKEN_FILE)),
    };
    let token = std::fs::read_to_string(&path)
        .with_context(|| format!("no platform token: cannot read {}", path.display()))?;
    let token = token.trim().to_string();
    anyhow::ensure!(
        !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()),
        "the platform token in {} is empty or not printable ASCII",
        path.display()
    );
    Ok(token)
}

/// Resolves on SIGTERM or SIGINT (systemd's stop, Ctrl-C).
pub async fn terminated() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// The daemon takes this lock in the data directory so that two never run at once.
pub const LOCK_FILE: &str = "sync.lock";

/// Holds the single-daemon lock while alive.
pub struct DaemonLock(#[allow(dead_code)] std::fs::File);

pub fn lock(data_dir: &Path) -> anyhow::Result<DaemonLock> {
    let path = data_dir.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match f.try_lock() {
        Ok(()) => Ok(DaemonLock(f)),
        Err(_) => anyhow::bail!(
            "another `hallkiosk sync` is running on {} (it holds {})",
            data_dir.display(),
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_a_capped_ceiling() {
        let b = Backoff {
            base: Duration::from_millis(1000),
            cap: Duration::from_secs(300),
        };
        assert_eq!(b.ceiling(0), Duration::from_secs(1));
        assert_eq!(b.ceiling(3), Duration::from_secs(8));
        assert_eq!(b.ceiling(9), Duration::from_secs(300));
        assert_eq!(b.ceiling(500), Duration::from_secs(300));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let draws: Vec<u128> = (0..2000)
            .map(|_| b.delay(2, &mut rng).as_millis())
            .collect();
        assert!(draws.iter().all(|&d| d <= 4000));
        // Spread over the whole range, not clustered at the ceiling (plain exponential backoff).
        let low = draws.iter().filter(|&&d| d < 1000).count();
        let high = draws.iter().filter(|&&d| d >= 3000).count();
        assert!((350..650).contains(&low), "{low}");
        assert!((350..650).contains(&high), "{high}");
    }
}
