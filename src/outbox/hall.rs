//! The hall's tables beside the outbox: progress queries (by receipt or by the placed card's keyed
//! reference), the kiosk's local ticket numbering, ratings waiting for delivery, and each device's
//! health for the heartbeat. None of them holds personal data.

use super::{tracking, Outbox, OutboxError, LAST_CONTACT};
use crate::shared::health::HealthLevel;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// What a progress query looks for.
pub enum ProgressQuery<'a> {
    /// A tracking code (from a scanned receipt).
    Code(&'a str),
    /// The ID number on a placed card (never stored: compared through its keyed reference).
    Person(&'a str),
}

enum ProgressKey {
    Id(i64),
    Ref(String),
}

/// One submission as a progress query shows it (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub tracking_code: String,
    pub service_item: String,
    pub created_at_ms: i64,
    /// queued | sending | accepted | rejected | quarantined
    pub state: String,
    /// The platform's last known review state, from the sync daemon's status pull.
    pub platform_state: Option<String>,
    pub accepted_at_ms: Option<i64>,
}

/// A rating (好差评) as the citizen gave it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRating {
    pub service_item: Option<String>,
    pub tracking_code: Option<String>,
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub level: u8,
    /// A reason code from the fixed list, for levels below 满意.
    pub reason: Option<String>,
}

/// A stored rating waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRating {
    pub idempotency_key: String,
    pub rating: NewRating,
    pub created_at_ms: i64,
}

impl Outbox {
    /// Submissions for a progress query, newest first (at most 20): one tracking code, or every
    /// submission of the person with this ID number at this kiosk.
    pub async fn progress(&self, query: &ProgressQuery<'_>) -> Result<Vec<Progress>, OutboxError> {
        let (clause, value) = match query {
            ProgressQuery::Code(code) => {
                // The code's sequence number is the row id (tracking::code).
                // Only this kiosk's codes: the same number at another kiosk is someone else's.
                let Some(id) = code
                    .rsplit('-')
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
                    .filter(|&n| tracking::code(&self.kiosk, n).eq_ignore_ascii_case(code))
                    .map(|n| n as i64)
                else {
                    return Ok(Vec::new());
                };
                ("s.id = ?1 AND s.kiosk_id = ?2", ProgressKey::Id(id))
            }
            // Under every key of the ring: entries sealed before a rotation carry the old key's.
            ProgressQuery::Person(id_number) => (
                "s.person_ref IN (SELECT value FROM json_each(?1)) AND s.kiosk_id = ?2",
                ProgressKey::Ref(
                    serde_json::to_string(&self.key.person_refs(id_number)).unwrap_or_default(),
                ),
            ),
        };
        let sql = format!(
            "SELECT s.id, s.service_item, s.created_at_ms, o.state, o.platform_state,
                    o.accepted_at_ms
             FROM submissions s JOIN outbox o ON o.submission_id = s.id
             WHERE {clause} ORDER BY s.id DESC LIMIT 20"
        );
        let q = sqlx::query(&sql);
        let q = match value {
            ProgressKey::Id(id) => q.bind(id),
            ProgressKey::Ref(r) => q.bind(r),
        };
        let rows = q.bind(&self.kiosk).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| Progress {
                tracking_code: tracking::code(&self.kiosk, r.get::<i64, _>("id") as u64),
                service_item: r.get("service_item"),
                created_at_ms: r.get("created_at_ms"),
                state: r.get("state"),
                platform_state: r.get("platform_state"),
                accepted_at_ms: r.get("accepted_at_ms"),
            })
            .collect())
    }

    /// The next kiosk-local queue number for `category` on `day` (`YYYY-MM-DD`), from 1.
    pub async fn next_local_ticket(&self, day: &str, category: &str) -> Result<i64, OutboxError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO queue_numbers (day, category, last_seq) VALUES (?1, ?2, 1)
             ON CONFLICT (day, category) DO UPDATE SET last_seq = last_seq + 1
             RETURNING last_seq",
        )
        .bind(day)
        .bind(category)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Stores a rating for the sync daemon to deliver.
    pub async fn add_rating(&self, r: &NewRating, now_ms: i64) -> Result<String, OutboxError> {
        let key = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO ratings (idempotency_key, service_item, tracking_code, level, reason,
                                  created_at_ms)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key)
        .bind(&r.service_item)
        .bind(&r.tracking_code)
        .bind(i64::from(r.level))
        .bind(&r.reason)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(key)
    }

    /// Ratings not yet delivered, oldest first.
    pub async fn unsent_ratings(&self, limit: i64) -> Result<Vec<StoredRating>, OutboxError> {
        let rows = sqlx::query(
            "SELECT idempotency_key, service_item, tracking_code, level, reason, created_at_ms
             FROM ratings WHERE sent_at_ms IS NULL ORDER BY id LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredRating {
                idempotency_key: r.get("idempotency_key"),
                rating: NewRating {
                    service_item: r.get("service_item"),
                    tracking_code: r.get("tracking_code"),
                    level: r.get::<i64, _>("level").clamp(1, 5) as u8,
                    reason: r.get("reason"),
                },
                created_at_ms: r.get("created_at_ms"),
            })
            .collect())
    }

    /// The platform has these ratings.
    pub async fn ratings_sent(&self, keys: &[String], now_ms: i64) -> Result<(), OutboxError> {
        let keys = serde_json::to_string(keys).unwrap_or_default();
        sqlx::query(
            "UPDATE ratings SET sent_at_ms = ?1
             WHERE sent_at_ms IS NULL AND idempotency_key IN (SELECT value FROM json_each(?2))",
        )
        .bind(now_ms)
        .bind(&keys)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ratings waiting for delivery.
    pub async fn unsent_rating_count(&self) -> Result<i64, OutboxError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM ratings WHERE sent_at_ms IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Whether the sync daemon talked to the platform within `window_ms` before `now_ms`.
    pub async fn platform_reached_within(
        &self,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<bool, OutboxError> {
        Ok(self
            .sync_value(LAST_CONTACT)
            .await?
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|t| now_ms - t <= window_ms && t <= now_ms + 60_000))
    }

    /// The kiosk process reports a device's health (kept only when it changed).
    pub async fn set_device_health(
        &self,
        device: &str,
        level: HealthLevel,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), OutboxError> {
        sqlx::query(
            "INSERT INTO device_health (device, level, detail, since_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (device) DO UPDATE SET level = excluded.level, detail = excluded.detail,
                 since_ms = excluded.since_ms
             WHERE level != excluded.level OR detail != excluded.detail",
        )
        .bind(device)
        .bind(level.as_str())
        .bind(detail)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every device's last reported health.
    pub async fn device_health(&self) -> Result<Vec<hallkiosk_api::DeviceHealth>, OutboxError> {
        let rows = sqlx::query(
            "SELECT device, level, detail, since_ms FROM device_health ORDER BY device",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| hallkiosk_api::DeviceHealth {
                device: r.get("device"),
                level: r.get("level"),
                detail: r.get("detail"),
                since_ms: r.get("since_ms"),
            })
            .collect())
    }
}
