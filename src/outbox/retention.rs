//! Everything the kiosk keeps has an end date (PIPL Art. 19, shortest necessary retention; the
//! defaults and their reasons are in docs/operations.md):
//!
//! - a payload the platform refused for good: purged `rejected_payload_days` after the refusal
//!   (with it the row's person reference);
//! - the keyed person reference of a submission whose payload is gone: cleared
//!   `person_ref_days_after_final` after the platform's state became final, and in any case
//!   `person_ref_max_days` after the submission (a state that never becomes final is no reason
//!   to keep it for good);
//! - ratings the platform has stored: deleted after `sent_rating_days`;
//! - receipt images under `<data_dir>/receipts`: deleted after `receipt_image_days`;
//! - print-job ledger lines: dropped after `print_ledger_days` (by the ledger's owner while the
//!   kiosk runs, see `hallkiosk_drivers::printer::job::FileLedger`).
//!
//! Never purged: entries the platform has not acknowledged (queued, sending, quarantined) — their
//! age raises an alarm instead — and the receipt record (tracking code, state, times).
//! The sync daemon purges every hour; `hallkiosk outbox purge [--dry-run]` on demand.

use super::{Outbox, OutboxError};
use crate::shared::config::Retention;
use serde::Serialize;
use std::path::Path;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The receipts folder and the print-job ledger in the data directory.
pub const RECEIPTS_DIR: &str = "receipts";
pub const PRINT_LEDGER: &str = "print-jobs.jsonl";

/// What a purge removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub rejected_payloads: u64,
    pub person_refs: u64,
    pub ratings: u64,
    pub receipt_images: u64,
    /// `None`: the ledger is in use by the running kiosk, which compacts it itself.
    pub ledger_jobs: Option<u64>,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.rejected_payloads
            + self.person_refs
            + self.ratings
            + self.receipt_images
            + self.ledger_jobs.unwrap_or(0)
    }
}

fn days(n: u64) -> i64 {
    (n as i64).saturating_mul(DAY_MS)
}

impl Outbox {
    /// Purges the database's part as of `now_ms` (`dry_run`: counts only).
    pub async fn purge(
        &self,
        r: &Retention,
        now_ms: i64,
        dry_run: bool,
    ) -> Result<Purged, OutboxError> {
        let rejected_before = now_ms - days(r.rejected_payload_days.0);
        let final_before = now_ms - days(r.person_ref_days_after_final.0);
        let made_before = now_ms - days(r.person_ref_max_days.0);
        let ratings_before = now_ms - days(r.sent_rating_days.0);
        let finals = serde_json::to_string(&r.final_states).unwrap_or_else(|_| "[]".into());
        // The WHERE clauses, shared by the count (dry run) and the change.
        let rejected = "payload IS NOT NULL AND id IN (SELECT submission_id FROM outbox
                        WHERE state = 'rejected' AND COALESCE(rejected_at_ms, updated_at_ms) <= ?1)";
        // A payload still present is bound to its person reference (crypto::Binding): only
        // references of rows whose payload is gone are cleared.
        // Final for the grace period, refused for good, or simply older than the longest keep.
        let person = "person_ref IS NOT NULL AND payload IS NULL AND (created_at_ms <= ?4 OR id IN (
                          SELECT submission_id FROM outbox
                          WHERE (platform_state IN (SELECT value FROM json_each(?2))
                                 AND COALESCE(platform_state_at_ms, accepted_at_ms, updated_at_ms) <= ?1)
                             OR (state = 'rejected'
                                 AND COALESCE(rejected_at_ms, updated_at_ms) <= ?3)))";
        let ratings = "sent_at_ms IS NOT NULL AND sent_at_ms <= ?1";
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut out = Purged::default();
        if dry_run {
            out.rejected_payloads = sqlx::query_scalar::<_, i64>(&format!(
                "SELECT COUNT(*) FROM submissions WHERE {rejected}"
            ))
            .bind(rejected_before)
            .fetch_one(&mut *tx)
            .await? as u64;
            // Rejected payloads purged now lose their reference at the same time.
            out.person_refs = sqlx::query_scalar::<_, i64>(&format!(
                "SELECT COUNT(*) FROM submissions WHERE person_ref IS NOT NULL AND (({})
                 OR ({person}))",
                rejected.replace("?1", "?3")
            ))
            .bind(final_before)
            .bind(&finals)
            .bind(rejected_before)
            .bind(made_before)
            .fetch_one(&mut *tx)
            .await? as u64;
            out.ratings = sqlx::query_scalar::<_, i64>(&format!(
                "SELECT COUNT(*) FROM ratings WHERE {ratings}"
            ))
            .bind(ratings_before)
            .fetch_one(&mut *tx)
            .await? as u64;
            tx.commit().await?;
            return Ok(out);
        }
        // References first: the rows whose rejected payload goes now are still found by it.
        let refs_of_rejected = sqlx::query(&format!(
            "UPDATE submissions SET person_ref = NULL WHERE person_ref IS NOT NULL AND {rejected}"
        ))
        .bind(rejected_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        out.rejected_payloads = sqlx::query(&format!(
            "UPDATE submissions SET payload = NULL, purged_at_ms = ?2 WHERE {rejected}"
        ))
        .bind(rejected_before)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        out.person_refs = refs_of_rejected
            + sqlx::query(&format!(
                "UPDATE submissions SET person_ref = NULL WHERE {person}"
            ))
            .bind(final_before)
            .bind(&finals)
            .bind(rejected_before)
            .bind(made_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        out.ratings = sqlx::query(&format!("DELETE FROM ratings WHERE {ratings}"))
            .bind(ratings_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(out)
    }
}

/// Deletes receipt images older than the retention (by modification time) in `dir`.
pub fn purge_receipts(dir: &Path, r: &Retention, now_ms: i64, dry_run: bool) -> u64 {
    let before = now_ms - days(r.receipt_image_days.0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        if modified <= before && (dry_run || std::fs::remove_file(&path).is_ok()) {
            n += 1;
        }
    }
    n
}

/// The whole purge of a data directory: the database, receipt images, the print-job ledger.
pub async fn purge_all(
    outbox: &Outbox,
    data_dir: &Path,
    r: &Retention,
    now_ms: i64,
    dry_run: bool,
) -> Result<Purged, OutboxError> {
    let mut p = outbox.purge(r, now_ms, dry_run).await?;
    p.receipt_images = purge_receipts(&data_dir.join(RECEIPTS_DIR), r, now_ms, dry_run);
    p.ledger_jobs = match hallkiosk_drivers::printer::job::compact_ledger(
        &data_dir.join(PRINT_LEDGER),
        now_ms - days(r.print_ledger_days.0),
        dry_run,
    ) {
        Ok(n) => n.map(|n| n as u64),
        Err(e) => {
            tracing::warn!("the print-job ledger could not be compacted: {e}");
            None
        }
    };
    Ok(p)
}
