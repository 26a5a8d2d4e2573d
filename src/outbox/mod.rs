//! The offline outbox: every submission is durable on the kiosk's storage before the citizen is told
//! "submitted", and leaves for the platform exactly once (docs/outbox.md).
//!
//! - SQLite in WAL mode with `synchronous=FULL` and `secure_delete=ON`; schema in `migrations/`.
//! - One statement (one transaction; a trigger adds the outbox entry) writes the submission with a
//!   UUID idempotency key (resent on every retry); its tracking code derives from the kiosk id and the
//!   row id, which is never reused.
//! - The personal payload (form fields, material images) is sealed with XChaCha20-Poly1305 under a
//!   key outside the database ([`crypto`]), bound to every stored field of its row; a key id in
//!   front names the key, so keys can rotate.
//! - Entry states: queued → sending → accepted | rejected | quarantined. Accepted entries lose their
//!   payload (a receipt record stays for progress queries); an entry left in `sending` by a crash
//!   goes back to `queued` with the same key. An entry whose payload cannot be opened or parsed is
//!   quarantined with the reason, never claimed again, and holds up nothing behind it. Nothing
//!   unacknowledged is ever deleted: its age is reported. Retention ([`retention`]) gives what is
//!   kept an end date.

mod claim;
pub mod crypto;
mod hall;
pub mod retention;

pub use hall::{NewRating, Progress, ProgressQuery, StoredRating};
pub use hallkiosk_api::tracking;

use crypto::{Binding, Keyring};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The database file in the data directory.
pub const DB_FILE: &str = "outbox.db";
/// The payload key file in the data directory (when no systemd credential is passed).
pub const KEY_FILE: &str = "outbox.key";
/// The `sync_state` value where the sync daemon records its last successful exchange with the
/// platform (milliseconds since the epoch).
pub const LAST_CONTACT: &str = "last_contact_ms";
/// An entry the platform has not acknowledged for this long raises the maintenance alarm.
pub const AGE_ALARM_SECS: i64 = 24 * 3600;

/// Why an outbox operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("outbox schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Key(#[from] crypto::KeyError),
    #[error("a stored payload is damaged: {0}")]
    Payload(String),
    #[error("no outbox entry with idempotency key {0}")]
    Unknown(String),
}

/// One material (a photographed document page).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Material {
    pub name: String,
    pub mime: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// The personal part of a submission: sealed at rest, zeroized in memory.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Payload {
    /// Form fields in order (name, value); includes the ID number where the service needs it.
    pub fields: Vec<(String, String)>,
    pub materials: Vec<Material>,
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Payload({} fields, {} materials)",
            self.fields.len(),
            self.materials.len()
        )
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    fields: Vec<(String, String)>,
    materials: Vec<(String, String, usize)>,
}

impl Payload {
    /// `u32 LE header length ‖ JSON header (fields, material names/types/lengths) ‖ material bytes`.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let header = Header {
            fields: self.fields.clone(),
            materials: self
                .materials
                .iter()
                .map(|m| (m.name.clone(), m.mime.clone(), m.bytes.len()))
                .collect(),
        };
        let json = zeroize::Zeroizing::new(serde_json::to_vec(&header).unwrap_or_default());
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(
            4 + json.len() + self.materials.iter().map(|m| m.bytes.len()).sum::<usize>(),
        ));
        out.extend((json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        for m in &self.materials {
            out.extend_from_slice(&m.bytes);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Payload, OutboxError> {
        let bad = |what: &str| OutboxError::Payload(what.to_string());
        let len = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| bad("too short"))?;
        let json = bytes
            .get(4..4 + len)
            .ok_or_else(|| bad("header cut short"))?;
        // The error's kind and place only: serde's own message can quote the value it choked on,
        // and this text becomes a quarantine reason and a log line.
        let header: Header = serde_json::from_slice(json).map_err(|e| {
            bad(&format!(
                "header is not the expected JSON ({:?} error at byte column {})",
                e.classify(),
                e.column()
            ))
        })?;
        let mut at = 4 + len;
        let mut materials = Vec::new();
        for (name, mime, n) in header.materials {
            let b = bytes
                .get(at..at + n)
                .ok_or_else(|| bad("material cut short"))?;
            materials.push(Material {
                name,
                mime,
                bytes: b.to_vec(),
            });
            at += n;
        }
        Ok(Payload {
            fields: header.fields,
            materials,
        })
    }
}

/// A submission as the apply flow hands it over.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub service_item: String,
    pub consent_version: String,
    pub payload: Payload,
}

/// What the citizen's receipt needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub tracking_code: String,
    pub idempotency_key: String,
}

/// What one claim took: the entries to send, and how many were quarantined on the way.
#[derive(Debug, Default)]
pub struct Claim {
    pub entries: Vec<Claimed>,
    pub quarantined: usize,
}

/// An entry taken for sending, payload opened.
#[derive(Debug)]
pub struct Claimed {
    pub tracking_code: String,
    pub idempotency_key: String,
    pub service_item: String,
    pub consent_version: String,
    pub created_at_ms: i64,
    pub attempts: i64,
    pub payload: Payload,
}

/// Entry counts and the oldest unacknowledged entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub queued: i64,
    pub sending: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// Entries whose payload cannot be opened or parsed: kept with the reason, never sent.
    pub quarantined: i64,
    /// Age of the oldest entry not yet accepted or rejected, in seconds.
    pub oldest_unacknowledged_secs: Option<i64>,
}

impl Stats {
    /// Entries waiting for the platform.
    pub fn depth(&self) -> i64 {
        self.queued + self.sending
    }
}

/// One entry as maintainers see it (no personal data).
#[derive(Debug, Clone, Serialize)]
pub struct EntryInfo {
    pub tracking_code: String,
    pub service_item: String,
    pub state: String,
    pub attempts: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub last_error: Option<String>,
    pub reject_reason: Option<String>,
    pub quarantine_reason: Option<String>,
    pub platform_state: Option<String>,
    pub payload_present: bool,
}

/// What became of one sent entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The platform has it (first time or replay): purge the payload.
    Accepted { platform_state: String },
    /// The platform refused it for good: keep it for maintainers, do not retry.
    Rejected { reason: String },
    /// Not delivered this time: due again at `at_ms`.
    RetryAt { error: String, at_ms: i64 },
}

pub use crate::shared::health::HealthLevel;

/// The outbox of one kiosk.
pub struct Outbox {
    pool: SqlitePool,
    key: Keyring,
    kiosk: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Outbox {
    /// Opens (creating if needed) the database at `db` and brings its schema up to date.
    pub async fn open(
        db: &Path,
        key: impl Into<Keyring>,
        kiosk: &str,
    ) -> Result<Outbox, OutboxError> {
        let key = key.into();
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(db)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(10));
        // One connection: a process enqueues at human pace, and one connection keeps its page cache
        // (a second one would re-read pages the first changed). No ping before each use: the
        // database is a local file, and a ping is one more round trip to sqlx's worker thread.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        // The kiosk process and the sync daemon may open a new database at the same moment; two
        // migrators racing would both try to create the tables. A lock file beside the database
        // lets one migrate while the other waits (the second then finds nothing to do).
        let lock_path = db.with_extension("db-migrate.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| OutboxError::Db(sqlx::Error::Io(e)))?;
        let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
            .await
            .map_err(|e| OutboxError::Db(sqlx::Error::Io(std::io::Error::other(e))))?
            .map_err(|e| OutboxError::Db(sqlx::Error::Io(e)))?;
        let migrated = MIGRATOR.run(&pool).await;
        drop(lock);
        migrated?;
        let outbox = Outbox {
            pool,
            key,
            kiosk: kiosk.to_string(),
        };
        outbox.reseal_format0().await?;
        Ok(outbox)
    }

    /// The keys this outbox opens payloads with.
    pub fn keyring(&self) -> &Keyring {
        &self.key
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Writes a submission and its outbox entry in one durable transaction.
    pub async fn enqueue(&self, s: &NewSubmission, now_ms: i64) -> Result<Enqueued, OutboxError> {
        let key = uuid::Uuid::new_v4().to_string();
        let person_ref = s
            .payload
            .fields
            .iter()
            .find(|(name, _)| name == "id_number")
            .map(|(_, v)| self.key.person_ref(v));
        let binding = Binding {
            idempotency_key: &key,
            kiosk_id: &self.kiosk,
            service_item: &s.service_item,
            consent_version: &s.consent_version,
            created_at_ms: now_ms,
            person_ref: person_ref.as_deref(),
        };
        // Never an empty or unsealed payload: a sealing failure fails the enqueue.
        let sealed = self.key.seal(&binding, &s.payload.to_bytes())?;
        // One statement: the trigger adds the outbox entry in the same implicit transaction.
        // The row id is the statement's last insert rowid (the trigger's own insert does not
        // change it once the trigger has ended).
        let id = sqlx::query(
            "INSERT INTO submissions (idempotency_key, service_item, kiosk_id, consent_version,
                                      created_at_ms, payload, person_ref, sealed_format)
             VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
        )
        .bind(&key)
        .bind(&s.service_item)
        .bind(&self.kiosk)
        .bind(&s.consent_version)
        .bind(now_ms)
        .bind(&sealed)
        .bind(&person_ref)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        let code = tracking::code(&self.kiosk, id as u64);
        Ok(Enqueued {
            tracking_code: code,
            idempotency_key: key,
        })
    }

    /// After a crash: entries left in `sending` go back to `queued`, keeping their key.
    pub async fn recover_stuck(&self, now_ms: i64) -> Result<u64, OutboxError> {
        Ok(sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_at_ms = ?, updated_at_ms = ?
             WHERE state = 'sending'",
        )
        .bind(now_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    async fn id_of(&self, key: &str) -> Result<i64, OutboxError> {
        sqlx::query_scalar("SELECT id FROM submissions WHERE idempotency_key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| OutboxError::Unknown(key.to_string()))
    }

    /// The platform accepted the entry: record it and purge the personal payload.
    pub async fn accepted(
        &self,
        key: &str,
        platform_state: &str,
        now_ms: i64,
    ) -> Result<(), OutboxError> {
        let id = self.id_of(key).await?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "UPDATE outbox SET state = 'accepted', accepted_at_ms = ?1, updated_at_ms = ?1,
                               platform_state = ?2, platform_state_at_ms = ?1, last_error = NULL
             WHERE submission_id = ?3",
        )
        .bind(now_ms)
        .bind(platform_state)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE submissions SET payload = NULL, purged_at_ms = ? WHERE id = ?")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The platform refused the entry for good (shown to maintainers, not retried).
    pub async fn rejected(&self, key: &str, reason: &str, now_ms: i64) -> Result<(), OutboxError> {
        let id = self.id_of(key).await?;
        sqlx::query(
            "UPDATE outbox SET state = 'rejected', reject_reason = ?1, updated_at_ms = ?2,
                               rejected_at_ms = ?2
             WHERE submission_id = ?3",
        )
        .bind(reason)
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A transient failure: back to `queued`, due again at `next_at_ms`.
    pub async fn retry_later(
        &self,
        key: &str,
        error: &str,
        next_at_ms: i64,
        now_ms: i64,
    ) -> Result<(), OutboxError> {
        let id = self.id_of(key).await?;
        sqlx::query(
            "UPDATE outbox SET state = 'queued', last_error = ?, next_attempt_at_ms = ?, updated_at_ms = ?
             WHERE submission_id = ? AND state = 'sending'",
        )
        .bind(error)
        .bind(next_at_ms)
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn stats(&self, now_ms: i64) -> Result<Stats, OutboxError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let count = |s: &str| {
            rows.iter()
                .find(|r| r.get::<String, _>("state") == s)
                .map(|r| r.get::<i64, _>("n"))
                .unwrap_or(0)
        };
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(s.created_at_ms) FROM outbox o JOIN submissions s ON s.id = o.submission_id
             WHERE o.state IN ('queued', 'sending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Stats {
            queued: count("queued"),
            sending: count("sending"),
            accepted: count("accepted"),
            rejected: count("rejected"),
            quarantined: count("quarantined"),
            oldest_unacknowledged_secs: oldest.map(|t| (now_ms - t).max(0) / 1000),
        })
    }

    /// The newest `limit` entries.
    pub async fn list(&self, limit: i64) -> Result<Vec<EntryInfo>, OutboxError> {
        let rows = sqlx::query(
            "SELECT s.id, s.kiosk_id, s.service_item, o.state, o.attempts, s.created_at_ms,
                    o.updated_at_ms, o.last_error, o.reject_reason, o.quarantine_reason,
                    o.platform_state,
                    s.payload IS NOT NULL AS payload_present
             FROM outbox o JOIN submissions s ON s.id = o.submission_id
             ORDER BY s.id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| EntryInfo {
                tracking_code: tracking::code(r.get("kiosk_id"), r.get::<i64, _>("id") as u64),
                service_item: r.get("service_item"),
                state: r.get("state"),
                attempts: r.get("attempts"),
                created_at_ms: r.get("created_at_ms"),
                updated_at_ms: r.get("updated_at_ms"),
                last_error: r.get("last_error"),
                reject_reason: r.get("reject_reason"),
                quarantine_reason: r.get("quarantine_reason"),
                platform_state: r.get("platform_state"),
                payload_present: r.get("payload_present"),
            })
            .collect())
    }

    /// Records what the platform said about a batch, in one transaction: accepted entries lose
    /// their payload, rejected ones keep it with the reason, the others are due again later.
    pub async fn record_outcomes(
        &self,
        outcomes: &[(String, Outcome)],
        now_ms: i64,
    ) -> Result<(), OutboxError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // Accepted entries (nearly all of them) in two statements per platform state.
        let mut accepted: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for (key, outcome) in outcomes {
            if let Outcome::Accepted { platform_state } = outcome {
                accepted.entry(platform_state).or_default().push(key);
            }
        }
        for (platform_state, keys) in accepted {
            let keys = serde_json::to_string(&keys).unwrap_or_default();
            sqlx::query(
                "UPDATE outbox SET state = 'accepted', accepted_at_ms = ?1, updated_at_ms = ?1,
                                   platform_state = ?2, platform_state_at_ms = ?1, last_error = NULL
                 WHERE state = 'sending' AND submission_id IN
                     (SELECT id FROM submissions WHERE idempotency_key IN (SELECT value FROM json_each(?3)))",
            )
            .bind(now_ms)
            .bind(platform_state)
            .bind(&keys)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE submissions SET payload = NULL, purged_at_ms = ?1
                 WHERE payload IS NOT NULL AND idempotency_key IN (SELECT value FROM json_each(?2))
                   AND id IN (SELECT submission_id FROM outbox WHERE state = 'accepted')",
            )
            .bind(now_ms)
            .bind(&keys)
            .execute(&mut *tx)
            .await?;
        }
        for (key, outcome) in outcomes {
            match outcome {
                Outcome::Accepted { .. } => {}
                Outcome::Rejected { reason } => {
                    sqlx::query(
                        "UPDATE outbox SET state = 'rejected', reject_reason = ?1, updated_at_ms = ?2,
                                           rejected_at_ms = ?2
                         WHERE submission_id = (SELECT id FROM submissions WHERE idempotency_key = ?3)
                           AND state = 'sending'",
                    )
                    .bind(reason)
                    .bind(now_ms)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                }
                Outcome::RetryAt { error, at_ms } => {
                    sqlx::query(
                        "UPDATE outbox SET state = 'queued', last_error = ?1, next_attempt_at_ms = ?2,
                                           updated_at_ms = ?3
                         WHERE submission_id = (SELECT id FROM submissions WHERE idempotency_key = ?4)
                           AND state = 'sending'",
                    )
                    .bind(error)
                    .bind(at_ms)
                    .bind(now_ms)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The platform's review state of a submission changed (from a status pull).
    pub async fn set_platform_state(&self, key: &str, state: &str) -> Result<bool, OutboxError> {
        self.set_platform_state_at(key, state, crate::shared::clock::now_ms())
            .await
    }

    /// [`Outbox::set_platform_state`] at a given time (when it changed is kept for retention).
    pub async fn set_platform_state_at(
        &self,
        key: &str,
        state: &str,
        now_ms: i64,
    ) -> Result<bool, OutboxError> {
        Ok(sqlx::query(
            "UPDATE outbox SET platform_state = ?1,
                   platform_state_at_ms = CASE WHEN platform_state IS ?1 THEN platform_state_at_ms
                                               ELSE ?3 END
             WHERE submission_id = (SELECT id FROM submissions WHERE idempotency_key = ?2)",
        )
        .bind(state)
        .bind(key)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// A value the sync daemon keeps between runs (e.g. its status-pull cursor).
    pub async fn sync_value(&self, name: &str) -> Result<Option<String>, OutboxError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM sync_state WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_sync_value(&self, name: &str, value: &str) -> Result<(), OutboxError> {
        sqlx::query(
            "INSERT INTO sync_state (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: `ok` when the database is sound.
    pub async fn integrity_check(&self) -> Result<String, OutboxError> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Waits for all connections to close (a clean shutdown checkpoints the WAL).
    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Opens the outbox the configuration names: `outbox.db` in the data directory (created), with the
/// payload key from the systemd credential or `outbox.key` beside it.
pub async fn open_configured(config: &crate::shared::config::Config) -> anyhow::Result<Outbox> {
    use anyhow::Context;
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let key = Keyring::load(&dir.join(KEY_FILE))?;
    let db = dir.join(DB_FILE);
    // The kiosk UI and the sync daemon are two users sharing the data directory's group: the
    // database (and the -wal/-shm files SQLite gives its mode) must be group-writable, which
    // SQLite's own 0644 is not. An empty file is an empty database: made 0660 (less the umask).
    if !db.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o660)
            .open(&db);
    }
    Outbox::open(&db, key, &config.kiosk.id.to_string())
        .await
        .with_context(|| format!("cannot open the outbox {}", db.display()))
}

/// A synthetic submission (no real person) for checking the way to the platform:
/// `hallkiosk outbox test-submit`, the fault tests and the benchmarks.
pub fn test_submission(n: u64, material_bytes: usize) -> NewSubmission {
    NewSubmission {
        service_item: "kiosk-selftest".into(),
        consent_version: "selftest".into(),
        payload: Payload {
            fields: vec![
                ("name".into(), "测试样例".into()),
                ("sequence".into(), n.to_string()),
                ("address".into(), "政务服务中心自助区".into()),
            ],
            materials: vec![Material {
                name: "page-1.jpg".into(),
                mime: "image/jpeg".into(),
                bytes: (0..material_bytes).map(|i| (i as u64 ^ n) as u8).collect(),
            }],
        },
    }
}
