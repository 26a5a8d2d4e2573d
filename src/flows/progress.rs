//! Progress queries (查询进度): by the placed card (this person's submissions at this kiosk) or by
//! a scanned receipt, with the platform's live state when the sync daemon can ask it.

use super::effect::ProgressReport;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressStep {
    /// 请放置身份证或扫描回执二维码.
    Waiting,
    Looking,
    Found(ProgressReport),
    Failed,
}

impl ProgressStep {
    /// The lookup's answer, if one was awaited.
    pub fn found(&mut self, result: Result<ProgressReport, String>) {
        if *self == ProgressStep::Looking {
            *self = match result {
                Ok(report) => ProgressStep::Found(report),
                Err(e) => {
                    tracing::error!("progress lookup failed: {e}");
                    ProgressStep::Failed
                }
            };
        }
    }
}

/// A submission's state at this kiosk (the outbox's `state`); the UI words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalState {
    Queued,
    Sending,
    Accepted,
    Rejected,
    Unknown,
}

impl LocalState {
    pub fn of(state: &str) -> LocalState {
        match state {
            // A quarantined entry waits for a maintainer; to the citizen it has not left yet.
            "queued" | "quarantined" => LocalState::Queued,
            "sending" => LocalState::Sending,
            "accepted" => LocalState::Accepted,
            "rejected" => LocalState::Rejected,
            _ => LocalState::Unknown,
        }
    }
}

/// The platform's review state; the UI words it, and shows an [`Other`](PlatformState::Other)
/// state as the platform sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformState {
    Received,
    InReview,
    Approved,
    Completed,
    Returned,
    Refused,
    Other,
}

impl PlatformState {
    pub fn of(state: &str) -> PlatformState {
        match state {
            "received" => PlatformState::Received,
            "in_review" => PlatformState::InReview,
            "approved" => PlatformState::Approved,
            "completed" => PlatformState::Completed,
            "returned" => PlatformState::Returned,
            "refused" => PlatformState::Refused,
            _ => PlatformState::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_kind() {
        for (state, kind) in [
            ("queued", LocalState::Queued),
            ("sending", LocalState::Sending),
            ("accepted", LocalState::Accepted),
            ("rejected", LocalState::Rejected),
            ("quarantined", LocalState::Queued),
            ("", LocalState::Unknown),
            ("something-new", LocalState::Unknown),
        ] {
            assert_eq!(LocalState::of(state), kind, "{state}");
        }
        for (state, kind) in [
            ("received", PlatformState::Received),
            ("in_review", PlatformState::InReview),
            ("approved", PlatformState::Approved),
            ("completed", PlatformState::Completed),
            ("returned", PlatformState::Returned),
            ("refused", PlatformState::Refused),
            ("something-new", PlatformState::Other),
        ] {
            assert_eq!(PlatformState::of(state), kind, "{state}");
        }
    }
}
