//! Taking entries for sending: the claim opens each payload with the keyring and quarantines one
//! that cannot be opened or parsed (the rest go ahead); quarantined entries can be released; rows
//! sealed in format 0 are sealed again in format 1 when the outbox opens; which key seals how many.

use super::crypto::Binding;
use super::{tracking, Claim, Claimed, Outbox, OutboxError, Payload};
use sqlx::Row;

impl Outbox {
    /// Payloads written before migration 0005 (format 0, bound to the idempotency key only) are
    /// opened and sealed again in format 1 under the current key, bound to their whole row. One
    /// that does not open stays as it is: claiming it quarantines it with the reason.
    pub(super) async fn reseal_format0(&self) -> Result<u64, OutboxError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query(
            "SELECT id, idempotency_key, kiosk_id, service_item, consent_version, created_at_ms,
                    person_ref, payload
             FROM submissions WHERE sealed_format = 0 AND payload IS NOT NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut done = 0;
        for row in rows {
            let key: String = row.get("idempotency_key");
            let sealed: Vec<u8> = row.get("payload");
            let Ok(plain) = self.key.open_legacy(&key, &sealed) else {
                continue;
            };
            let kiosk: String = row.get("kiosk_id");
            let item: String = row.get("service_item");
            let consent: String = row.get("consent_version");
            let person: Option<String> = row.get("person_ref");
            let binding = Binding {
                idempotency_key: &key,
                kiosk_id: &kiosk,
                service_item: &item,
                consent_version: &consent,
                created_at_ms: row.get("created_at_ms"),
                person_ref: person.as_deref(),
            };
            let resealed = self.key.seal(&binding, &plain)?;
            sqlx::query("UPDATE submissions SET payload = ?1, sealed_format = 1 WHERE id = ?2")
                .bind(&resealed)
                .bind(row.get::<i64, _>("id"))
                .execute(&mut *tx)
                .await?;
            done += 1;
        }
        tx.commit().await?;
        if done > 0 {
            tracing::info!("{done} payloads sealed again in format 1");
        }
        Ok(done)
    }

    /// How many stored payloads each key id (hex) seals; `format0` for payloads not yet sealed
    /// again (a retired key may go once it seals none).
    pub async fn payloads_by_key(
        &self,
    ) -> Result<std::collections::BTreeMap<String, i64>, OutboxError> {
        let rows = sqlx::query(
            "SELECT CASE WHEN sealed_format = 0 THEN 'format0'
                         ELSE lower(hex(substr(payload, 2, 4))) END AS k, COUNT(*) AS n
             FROM submissions WHERE payload IS NOT NULL GROUP BY k",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<String, _>("k"), r.get::<i64, _>("n")))
            .collect())
    }

    /// Takes up to `limit` due entries, oldest first, marks them `sending` and opens their payloads.
    /// See [`Outbox::claim`]; this returns the entries only.
    pub async fn claim_due(&self, limit: i64, now_ms: i64) -> Result<Vec<Claimed>, OutboxError> {
        Ok(self.claim(limit, now_ms).await?.entries)
    }

    /// Takes up to `limit` due entries, oldest first, marks them `sending` and opens their
    /// payloads, in one transaction. An entry whose payload cannot be opened (damaged, wrong or
    /// missing key, unknown format) or parsed is quarantined with the reason instead — never
    /// claimed again — and the others go ahead.
    pub async fn claim(&self, limit: i64, now_ms: i64) -> Result<Claim, OutboxError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // Ids first (index `outbox_queue` walks queued entries in order and stops at the limit),
        // then one statement marks them `sending`, then their rows and payloads.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT submission_id FROM outbox
             WHERE state = 'queued' AND next_attempt_at_ms <= ?1
             ORDER BY submission_id LIMIT ?2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Claim::default());
        }
        let ids = serde_json::to_string(&ids).unwrap_or_default();
        sqlx::query(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at_ms = ?1
             WHERE submission_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(now_ms)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "SELECT s.id, s.kiosk_id, s.idempotency_key, s.service_item, s.consent_version,
                    s.created_at_ms, s.payload, s.person_ref, s.sealed_format, o.attempts
             FROM submissions s JOIN outbox o ON o.submission_id = s.id
             WHERE s.id IN (SELECT value FROM json_each(?1))
             ORDER BY s.id",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        let mut claim = Claim::default();
        for row in rows {
            let id: i64 = row.get("id");
            let key: String = row.get("idempotency_key");
            let kiosk: String = row.get("kiosk_id");
            let service_item: String = row.get("service_item");
            let consent_version: String = row.get("consent_version");
            let created_at_ms: i64 = row.get("created_at_ms");
            let person: Option<String> = row.get("person_ref");
            let sealed: Option<Vec<u8>> = row.get("payload");
            let format: i64 = row.get("sealed_format");
            let binding = Binding {
                idempotency_key: &key,
                kiosk_id: &kiosk,
                service_item: &service_item,
                consent_version: &consent_version,
                created_at_ms,
                person_ref: person.as_deref(),
            };
            let opened = match (sealed, format) {
                (None, _) => Err(OutboxError::Payload("payload missing".into())),
                (Some(b), 0) => self.key.open_legacy(&key, &b).map_err(OutboxError::from),
                (Some(b), _) => self.key.open(&binding, &b).map_err(OutboxError::from),
            }
            .and_then(|plain| Payload::from_bytes(&plain));
            match opened {
                Ok(payload) => claim.entries.push(Claimed {
                    tracking_code: tracking::code(&kiosk, id as u64),
                    idempotency_key: key,
                    service_item,
                    consent_version,
                    created_at_ms,
                    attempts: row.get("attempts"),
                    payload,
                }),
                Err(e) => {
                    // The reason names what failed, never payload bytes.
                    let reason = e.to_string();
                    tracing::error!(
                        code = %tracking::code(&kiosk, id as u64),
                        "outbox entry quarantined: {reason}"
                    );
                    sqlx::query(
                        "UPDATE outbox SET state = 'quarantined', quarantine_reason = ?1,
                                           quarantined_at_ms = ?2, updated_at_ms = ?2
                         WHERE submission_id = ?3",
                    )
                    .bind(&reason)
                    .bind(now_ms)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    claim.quarantined += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(claim)
    }

    /// Quarantined entries go back to `queued` (after a maintainer restored the right key, say);
    /// one that still cannot be opened is quarantined again at its next claim.
    pub async fn release_quarantined(&self, now_ms: i64) -> Result<u64, OutboxError> {
        Ok(sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_at_ms = ?1, updated_at_ms = ?1,
                               last_error = quarantine_reason, quarantine_reason = NULL,
                               quarantined_at_ms = NULL
             WHERE state = 'quarantined'",
        )
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}
