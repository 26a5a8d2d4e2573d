//! `[retention]`: how long what the kiosk keeps is kept (src/outbox/retention.rs purges).

use super::Ranged;
use serde::{Deserialize, Serialize};

/// How long what the kiosk keeps is kept (PIPL Art. 19: the shortest time necessary; the reasons
/// for each default are in docs/operations.md). Purged by the sync daemon every hour and by
/// `hallkiosk outbox purge`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// A payload the platform refused for good is kept this long for a maintainer to follow up.
    pub rejected_payload_days: Ranged<1, 365>,
    /// The keyed person reference of a submission is cleared this long after the platform's state
    /// became final (so the citizen can still see the final state by placing the card).
    pub person_ref_days_after_final: Ranged<0, 365>,
    /// …and in any case this long after the submission (a state that never becomes final).
    pub person_ref_max_days: Ranged<1, 3650>,
    /// The platform states after which nothing more happens to a submission.
    pub final_states: Vec<String>,
    /// Receipt and ticket images under `<data_dir>/receipts` (the simulated printer's tray).
    pub receipt_image_days: Ranged<1, 365>,
    /// Lines of the print-job ledger (`print-jobs.jsonl`).
    pub print_ledger_days: Ranged<1, 365>,
    /// Ratings the platform has stored.
    pub sent_rating_days: Ranged<1, 365>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            rejected_payload_days: Ranged(30),
            person_ref_days_after_final: Ranged(30),
            person_ref_max_days: Ranged(365),
            final_states: vec!["completed".into(), "refused".into()],
            receipt_image_days: Ranged(7),
            print_ledger_days: Ranged(7),
            sent_rating_days: Ranged(7),
        }
    }
}
