//! The platform's database: SQLite (a file) or PostgreSQL (a `postgres://` URL), through sqlx's
//! `Any` driver with one schema (`migrations/`, plain SQL both run) and `$n` placeholders.
//!
//! Idempotency (docs/platform.md): a submission request first takes a lease on its
//! (kiosk, Idempotency-Key) row in one short transaction, then writes the submission and the stored
//! answer in a second one. A replay finds the answer; a request whose key holds a live lease gets
//! 409; a lease left by a crashed request expires and the next retry takes it over.

use hallkiosk_api::{codes, Accepted, Heartbeat, Problem, StatusChange, Submission};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("platform database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("platform schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
}

/// Which database the URL named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The answer to one submission, as the single-item endpoint would send it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub replayed: bool,
}

impl Answer {
    fn problem(status: u16, error: &str, detail: String) -> Answer {
        Answer {
            status,
            body: serde_json::to_value(Problem {
                error: error.into(),
                detail,
            })
            .unwrap_or_default(),
            replayed: false,
        }
    }
}

/// A kiosk as the fleet page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KioskRow {
    pub kiosk_id: String,
    pub last_heartbeat_ms: Option<i64>,
    pub software_version: Option<String>,
    pub outbox_depth: Option<i64>,
    pub oldest_unacknowledged_secs: Option<i64>,
    pub rejected: Option<i64>,
    /// Outbox entries the kiosk cannot open or parse (an alarm).
    pub quarantined: Option<i64>,
    pub devices: Vec<hallkiosk_api::DeviceHealth>,
    pub last_error: Option<String>,
    pub submissions: i64,
}

/// A rating flagged for follow-up, as the fleet page lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RatingRow {
    pub kiosk_id: String,
    pub service_item: Option<String>,
    pub tracking_code: Option<String>,
    pub level: i64,
    pub reason: Option<String>,
    pub created_at_ms: i64,
}

/// A stored submission (for maintainers and tests; the body holds personal data).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubmissionRow {
    pub kiosk_id: String,
    pub tracking_code: String,
    pub idempotency_key: String,
    pub platform_id: String,
    pub service_item: String,
    pub state: String,
    pub received_at_ms: i64,
    pub submission: Submission,
}

pub struct Store {
    pool: AnyPool,
    backend: Backend,
    lease: Duration,
}

/// `postgres://…` / `postgresql://…` as is; `sqlite:…` as is; anything else is a SQLite file path.
pub fn database_url(db: &str) -> (String, Backend) {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        (db.to_string(), Backend::Postgres)
    } else if db.starts_with("sqlite:") {
        (db.to_string(), Backend::Sqlite)
    } else {
        (format!("sqlite://{db}?mode=rwc"), Backend::Sqlite)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

enum Claim {
    Owned,
    Done(Answer),
}

impl Store {
    /// Connects and brings the schema up to date. SQLite runs in WAL mode with
    /// `synchronous=FULL` (an acknowledged submission is on storage) through one connection.
    pub async fn open(db: &str, lease: Duration) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = database_url(db);
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in [
                                "PRAGMA journal_mode=WAL",
                                "PRAGMA synchronous=FULL",
                                "PRAGMA busy_timeout=10000",
                            ] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await?
            }
        };
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            lease,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Registers a kiosk with its token (only the token's SHA-256 is stored). Replaces the token of
    /// a known kiosk.
    pub async fn add_kiosk(&self, kiosk: &str, token: &str) -> Result<(), StoreError> {
        if !valid_kiosk_id(kiosk) {
            return Err(StoreError::Invalid(format!(
                "kiosk id `{kiosk}`: use 1–32 letters, digits and '-'"
            )));
        }
        let hash = sha256_hex(token.as_bytes());
        let owner: Option<String> =
            sqlx::query_scalar("SELECT kiosk_id FROM kiosks WHERE token_sha256 = $1")
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
        let operator: Option<String> =
            sqlx::query_scalar("SELECT name FROM operators WHERE token_sha256 = $1")
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
        if owner.is_some_and(|o| o != kiosk) || operator.is_some() {
            return Err(StoreError::Invalid(
                "this token is already another kiosk's or an operator's: use a fresh one".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO kiosks (kiosk_id, token_sha256, created_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (kiosk_id) DO UPDATE SET token_sha256 = excluded.token_sha256",
        )
        .bind(kiosk)
        .bind(hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Registers an operator of the fleet page with a token (only its SHA-256 is stored); replaces
    /// the token of a known operator.
    pub async fn add_operator(&self, name: &str, token: &str) -> Result<(), StoreError> {
        if !valid_kiosk_id(name) {
            return Err(StoreError::Invalid(format!(
                "operator name `{name}`: use 1–32 letters, digits and '-'"
            )));
        }
        let hash = sha256_hex(token.as_bytes());
        let taken: Option<String> =
            sqlx::query_scalar("SELECT name FROM operators WHERE token_sha256 = $1")
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
        let is_kiosks: Option<String> =
            sqlx::query_scalar("SELECT kiosk_id FROM kiosks WHERE token_sha256 = $1")
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
        if taken.is_some_and(|o| o != name) || is_kiosks.is_some() {
            return Err(StoreError::Invalid(
                "this token is already in use: use a fresh one".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO operators (name, token_sha256, created_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET token_sha256 = excluded.token_sha256",
        )
        .bind(name)
        .bind(hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The operator a fleet-page token belongs to.
    pub async fn operator_for_token(&self, token: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM operators WHERE token_sha256 = $1")
                .bind(sha256_hex(token.as_bytes()))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The kiosk a bearer token belongs to.
    pub async fn kiosk_for_token(&self, token: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT kiosk_id FROM kiosks WHERE token_sha256 = $1")
                .bind(sha256_hex(token.as_bytes()))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Reserves `n` numbers of a counter; returns the first.
    async fn reserve(
        &self,
        conn: &mut sqlx::AnyConnection,
        counter: &str,
        n: i64,
    ) -> Result<i64, StoreError> {
        let last: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + $1 WHERE name = $2 RETURNING value",
        )
        .bind(n)
        .bind(counter)
        .fetch_one(conn)
        .await?;
        Ok(last - n + 1)
    }

    /// Takes each item's idempotency lease (one transaction), writes the owned ones and their
    /// answers (a second transaction), and answers every item as if it had come alone.
    pub async fn submit_batch(
        &self,
        kiosk: &str,
        items: &[(String, Submission)],
    ) -> Result<Vec<Answer>, StoreError> {
        let now = now_ms();
        let mut claims = Vec::with_capacity(items.len());
        let mut tx = self.pool.begin().await?;
        for (key, submission) in items {
            let body = serde_json::to_vec(submission).unwrap_or_default();
            let hash = sha256_hex(&body);
            claims.push(self.claim(&mut tx, kiosk, key, &hash, now).await?);
        }
        tx.commit().await?;

        let mut answers = Vec::with_capacity(items.len());
        let mut tx = self.pool.begin().await?;
        let owned = claims.iter().filter(|c| matches!(c, Claim::Owned)).count() as i64;
        let (mut seq, mut pid) = if owned > 0 {
            (
                self.reserve(&mut tx, "seq", owned).await?,
                self.reserve(&mut tx, "platform_id", owned).await?,
            )
        } else {
            (0, 0)
        };
        for ((key, submission), claim) in items.iter().zip(claims) {
            let answer = match claim {
                Claim::Done(answer) => answer,
                Claim::Owned => {
                    let a = self
                        .record(&mut tx, kiosk, key, submission, now, (seq, pid))
                        .await?;
                    seq += 1;
                    pid += 1;
                    a
                }
            };
            answers.push(answer);
        }
        tx.commit().await?;
        Ok(answers)
    }

    async fn claim(
        &self,
        tx: &mut sqlx::AnyConnection,
        kiosk: &str,
        key: &str,
        hash: &str,
        now: i64,
    ) -> Result<Claim, StoreError> {
        let lease_until = now + self.lease.as_millis() as i64;
        let inserted = sqlx::query(
            "INSERT INTO idempotency (kiosk_id, idem_key, body_sha256, state, lease_until_ms, created_at_ms)
             VALUES ($1, $2, $3, 'processing', $4, $5) ON CONFLICT (kiosk_id, idem_key) DO NOTHING",
        )
        .bind(kiosk)
        .bind(key)
        .bind(hash)
        .bind(lease_until)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Claim::Owned);
        }
        let row = sqlx::query(
            "SELECT body_sha256, state, lease_until_ms, status, response FROM idempotency
             WHERE kiosk_id = $1 AND idem_key = $2",
        )
        .bind(kiosk)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        let stored_hash: String = row.try_get("body_sha256")?;
        if stored_hash != hash {
            return Ok(Claim::Done(Answer::problem(
                422,
                codes::KEY_REUSED,
                format!("Idempotency-Key {key} was used before with a different body"),
            )));
        }
        let state: String = row.try_get("state")?;
        if state == "done" {
            let status: i64 = row.try_get("status")?;
            let response: String = row.try_get("response")?;
            return Ok(Claim::Done(Answer {
                status: status as u16,
                body: serde_json::from_str(&response).unwrap_or_default(),
                replayed: true,
            }));
        }
        let held_until: i64 = row.try_get("lease_until_ms")?;
        if held_until > now {
            return Ok(Claim::Done(Answer::problem(
                409,
                codes::IN_FLIGHT,
                format!(
                    "a request with Idempotency-Key {key} is still being processed; retry later"
                ),
            )));
        }
        // The request that held the lease died: take it over.
        let taken = sqlx::query(
            "UPDATE idempotency SET lease_until_ms = $1
             WHERE kiosk_id = $2 AND idem_key = $3 AND state = 'processing' AND lease_until_ms = $4",
        )
        .bind(lease_until)
        .bind(kiosk)
        .bind(key)
        .bind(held_until)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        Ok(if taken == 1 {
            Claim::Owned
        } else {
            Claim::Done(Answer::problem(
                409,
                codes::IN_FLIGHT,
                format!(
                    "a request with Idempotency-Key {key} is still being processed; retry later"
                ),
            ))
        })
    }

    async fn record(
        &self,
        tx: &mut sqlx::AnyConnection,
        kiosk: &str,
        key: &str,
        s: &Submission,
        now: i64,
        (seq, pid): (i64, i64),
    ) -> Result<Answer, StoreError> {
        let platform_id = format!("P{pid:09}");
        let inserted = sqlx::query(
            "INSERT INTO submissions (kiosk_id, tracking_code, idem_key, platform_id, service_item,
                 consent_version, created_at_ms, received_at_ms, body, state, seq, changed_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', $10, $11)
             ON CONFLICT DO NOTHING",
        )
        .bind(kiosk)
        .bind(&s.tracking_code)
        .bind(key)
        .bind(&platform_id)
        .bind(&s.service_item)
        .bind(&s.consent_version)
        .bind(s.created_at_ms)
        .bind(now)
        .bind(serde_json::to_string(s).unwrap_or_default())
        .bind(seq)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let answer = if inserted == 1 {
            accepted(&s.tracking_code, &platform_id, "received", now)
        } else {
            // Either this key was recorded by an earlier holder of an expired lease, or the tracking
            // code belongs to another submission.
            let existing = sqlx::query(
                "SELECT idem_key, platform_id, state, received_at_ms FROM submissions
                 WHERE kiosk_id = $1 AND (idem_key = $2 OR tracking_code = $3)",
            )
            .bind(kiosk)
            .bind(key)
            .bind(&s.tracking_code)
            .fetch_all(&mut *tx)
            .await?;
            match existing
                .iter()
                .find(|r| r.try_get::<String, _>("idem_key").ok().as_deref() == Some(key))
            {
                Some(r) => accepted(
                    &s.tracking_code,
                    &r.try_get::<String, _>("platform_id")?,
                    &r.try_get::<String, _>("state")?,
                    r.try_get("received_at_ms")?,
                ),
                None => Answer::problem(
                    422,
                    codes::TRACKING_CODE_TAKEN,
                    format!(
                        "tracking code {} already belongs to another submission of this kiosk",
                        s.tracking_code
                    ),
                ),
            }
        };
        sqlx::query(
            "UPDATE idempotency SET state = 'done', status = $1, response = $2
             WHERE kiosk_id = $3 AND idem_key = $4",
        )
        .bind(answer.status as i64)
        .bind(answer.body.to_string())
        .bind(kiosk)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        Ok(answer)
    }

    /// Changes a submission's review state (a clerk's decision); the kiosk sees it in its next
    /// status pull.
    pub async fn set_state(&self, kiosk: &str, code: &str, state: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let seq = self.reserve(&mut tx, "seq", 1).await?;
        let n = sqlx::query(
            "UPDATE submissions SET state = $1, seq = $2, changed_at_ms = $3
             WHERE kiosk_id = $4 AND tracking_code = $5",
        )
        .bind(state)
        .bind(seq)
        .bind(now_ms())
        .bind(kiosk)
        .bind(code)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "kiosk {kiosk} has no submission {code}"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// This kiosk's submissions whose state changed after `after`, oldest change first.
    pub async fn status_changes(
        &self,
        kiosk: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StatusChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, tracking_code, idem_key, state, changed_at_ms FROM submissions
             WHERE kiosk_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(kiosk)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_of).collect()
    }

    /// One of this kiosk's submissions by tracking code: (state, changed at).
    pub async fn lookup(
        &self,
        kiosk: &str,
        code: &str,
    ) -> Result<Option<StatusChange>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, tracking_code, idem_key, state, changed_at_ms FROM submissions
             WHERE kiosk_id = $1 AND tracking_code = $2",
        )
        .bind(kiosk)
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(change_of).transpose()
    }

    /// Stores a heartbeat and updates the kiosk's row on the fleet page.
    pub async fn heartbeat(&self, kiosk: &str, hb: &Heartbeat) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO heartbeats (kiosk_id, received_ms, body) VALUES ($1, $2, $3)")
            .bind(kiosk)
            .bind(now)
            .bind(serde_json::to_string(hb).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE kiosks SET last_heartbeat_ms = $1, software_version = $2, outbox_depth = $3,
                 oldest_unacked_secs = $4, rejected = $5, devices_json = $6, last_error = $7,
                 quarantined = $9
             WHERE kiosk_id = $8",
        )
        .bind(now)
        .bind(&hb.software_version)
        .bind(hb.outbox_depth)
        .bind(hb.oldest_unacknowledged_secs)
        .bind(hb.rejected)
        .bind(serde_json::to_string(&hb.devices).unwrap_or_default())
        .bind(&hb.last_error)
        .bind(kiosk)
        .bind(hb.quarantined)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores ratings from `kiosk`; returns how many were new (replays are ignored).
    pub async fn add_ratings(
        &self,
        kiosk: &str,
        ratings: &[hallkiosk_api::Rating],
    ) -> Result<u64, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let mut stored = 0;
        for r in ratings {
            stored += sqlx::query(
                "INSERT INTO ratings (kiosk_id, idem_key, service_item, tracking_code, level,
                                      reason, created_at_ms, received_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (kiosk_id, idem_key) DO NOTHING",
            )
            .bind(kiosk)
            .bind(&r.idempotency_key)
            .bind(&r.service_item)
            .bind(&r.tracking_code)
            .bind(i64::from(r.level))
            .bind(&r.reason)
            .bind(r.created_at_ms)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// The next queue number of `category` today (`day` = `YYYY-MM-DD`) and how many tickets of
    /// that category issued today wait before it.
    pub async fn issue_ticket(
        &self,
        kiosk: &str,
        day: &str,
        category: &str,
    ) -> Result<(i64, i64), StoreError> {
        let now = now_ms();
        // One transaction; on SQLite the single connection serialises it, on PostgreSQL the
        // primary key makes a concurrent duplicate fail, and the caller's retry takes the next.
        for _ in 0..5 {
            let mut tx = self.pool.begin().await?;
            let last: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(seq) FROM queue_tickets WHERE day = $1 AND category = $2",
            )
            .bind(day)
            .bind(category)
            .fetch_one(&mut *tx)
            .await?;
            let seq = last.unwrap_or(0) + 1;
            let inserted = sqlx::query(
                "INSERT INTO queue_tickets (day, category, seq, kiosk_id, issued_at_ms)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(day)
            .bind(category)
            .bind(seq)
            .bind(kiosk)
            .bind(now)
            .execute(&mut *tx)
            .await;
            if inserted.is_err() {
                let _ = tx.rollback().await;
                continue;
            }
            let ahead: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM queue_tickets
                 WHERE day = $1 AND category = $2 AND seq < $3 AND called = 0",
            )
            .bind(day)
            .bind(category)
            .bind(seq)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok((seq, ahead));
        }
        Err(StoreError::Invalid("the queue is busy; try again".into()))
    }

    /// Ratings below 满意 (flagged for follow-up), newest first.
    pub async fn flagged_ratings(&self, limit: i64) -> Result<Vec<RatingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kiosk_id, service_item, tracking_code, level, reason, created_at_ms
             FROM ratings WHERE level < 4 ORDER BY received_at_ms DESC, kiosk_id, idem_key
             LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RatingRow {
                    kiosk_id: r.try_get("kiosk_id")?,
                    service_item: r.try_get("service_item")?,
                    tracking_code: r.try_get("tracking_code")?,
                    level: r.try_get("level")?,
                    reason: r.try_get("reason")?,
                    created_at_ms: r.try_get("created_at_ms")?,
                })
            })
            .collect()
    }

    /// How many ratings each level has (index 0: level 1 … index 4: level 5).
    pub async fn rating_counts(&self) -> Result<[i64; 5], StoreError> {
        let rows = sqlx::query("SELECT level, COUNT(*) AS n FROM ratings GROUP BY level")
            .fetch_all(&self.pool)
            .await?;
        let mut out = [0i64; 5];
        for r in rows {
            let level: i64 = r.try_get("level")?;
            if (1..=5).contains(&level) {
                out[(level - 1) as usize] = r.try_get("n")?;
            }
        }
        Ok(out)
    }

    pub async fn kiosks(&self) -> Result<Vec<KioskRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.kiosk_id, k.last_heartbeat_ms, k.software_version, k.outbox_depth,
                    k.oldest_unacked_secs, k.rejected, k.quarantined, k.devices_json, k.last_error,
                    (SELECT COUNT(*) FROM submissions s WHERE s.kiosk_id = k.kiosk_id) AS n
             FROM kiosks k ORDER BY k.kiosk_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let devices: Option<String> = r.try_get("devices_json")?;
                Ok(KioskRow {
                    kiosk_id: r.try_get("kiosk_id")?,
                    last_heartbeat_ms: r.try_get("last_heartbeat_ms")?,
                    software_version: r.try_get("software_version")?,
                    outbox_depth: r.try_get("outbox_depth")?,
                    oldest_unacknowledged_secs: r.try_get("oldest_unacked_secs")?,
                    rejected: r.try_get("rejected")?,
                    quarantined: r.try_get("quarantined")?,
                    devices: devices
                        .and_then(|d| serde_json::from_str(&d).ok())
                        .unwrap_or_default(),
                    last_error: r.try_get("last_error")?,
                    submissions: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// Stored submissions, optionally of one kiosk, in arrival order.
    pub async fn submissions(&self, kiosk: Option<&str>) -> Result<Vec<SubmissionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kiosk_id, tracking_code, idem_key, platform_id, service_item, state,
                    received_at_ms, body
             FROM submissions WHERE ($1 = '' OR kiosk_id = $1) ORDER BY platform_id",
        )
        .bind(kiosk.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get("body")?;
                Ok(SubmissionRow {
                    kiosk_id: r.try_get("kiosk_id")?,
                    tracking_code: r.try_get("tracking_code")?,
                    idempotency_key: r.try_get("idem_key")?,
                    platform_id: r.try_get("platform_id")?,
                    service_item: r.try_get("service_item")?,
                    state: r.try_get("state")?,
                    received_at_ms: r.try_get("received_at_ms")?,
                    submission: serde_json::from_str(&body)
                        .map_err(|e| StoreError::Invalid(format!("stored body: {e}")))?,
                })
            })
            .collect()
    }

    /// Publishes a catalog version (its `version` field, dotted numbers, newer than none needed).
    pub async fn publish_catalog(&self, json: &str) -> Result<String, StoreError> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| StoreError::Invalid(format!("catalog is not JSON: {e}")))?;
        let version = value
            .get("version")
            .and_then(|v| v.as_str())
            .filter(|v| hallkiosk_api::version_key(v).is_some())
            .ok_or_else(|| StoreError::Invalid("catalog has no `version` like 2026.11.1".into()))?
            .to_string();
        let n = sqlx::query(
            "INSERT INTO catalogs (version, published_at_ms, body) VALUES ($1, $2, $3)
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(&version)
        .bind(now_ms())
        .bind(json)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "catalog version {version} is already published"
            )));
        }
        Ok(version)
    }

    /// The newest published catalog.
    /// The newest published catalog's version (what a kiosk's `If-None-Match` is compared with,
    /// without loading and parsing the catalog).
    pub async fn newest_catalog_version(&self) -> Result<Option<String>, StoreError> {
        let versions: Vec<String> = sqlx::query_scalar("SELECT version FROM catalogs")
            .fetch_all(&self.pool)
            .await?;
        Ok(versions
            .into_iter()
            .max_by_key(|v| hallkiosk_api::version_key(v)))
    }

    pub async fn newest_catalog(
        &self,
    ) -> Result<Option<hallkiosk_api::CatalogDocument>, StoreError> {
        let Some(newest) = self.newest_catalog_version().await? else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT published_at_ms, body FROM catalogs WHERE version = $1")
            .bind(&newest)
            .fetch_one(&self.pool)
            .await?;
        let body: String = row.try_get("body")?;
        Ok(Some(hallkiosk_api::CatalogDocument {
            version: newest,
            published_at_ms: row.try_get("published_at_ms")?,
            catalog: serde_json::from_str(&body)
                .map_err(|e| StoreError::Invalid(format!("stored catalog: {e}")))?,
        }))
    }

    /// For tests of the 409 path: a lease held by a request that is "still running".
    pub async fn hold_lease(
        &self,
        kiosk: &str,
        key: &str,
        submission: &Submission,
        until_ms: i64,
    ) -> Result<(), StoreError> {
        let hash = sha256_hex(&serde_json::to_vec(submission).unwrap_or_default());
        sqlx::query(
            "INSERT INTO idempotency (kiosk_id, idem_key, body_sha256, state, lease_until_ms, created_at_ms)
             VALUES ($1, $2, $3, 'processing', $4, $5)",
        )
        .bind(kiosk)
        .bind(key)
        .bind(hash)
        .bind(until_ms)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn change_of(r: &sqlx::any::AnyRow) -> Result<StatusChange, StoreError> {
    Ok(StatusChange {
        seq: r.try_get("seq")?,
        tracking_code: r.try_get("tracking_code")?,
        idempotency_key: r.try_get("idem_key")?,
        state: r.try_get("state")?,
        changed_at_ms: r.try_get("changed_at_ms")?,
    })
}

fn accepted(code: &str, platform_id: &str, state: &str, at: i64) -> Answer {
    Answer {
        status: 201,
        body: serde_json::to_value(Accepted {
            tracking_code: code.into(),
            platform_id: platform_id.into(),
            state: state.into(),
            received_at_ms: at,
        })
        .unwrap_or_default(),
        replayed: false,
    }
}

pub fn valid_kiosk_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
