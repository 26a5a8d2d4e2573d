//! The sync API between a kiosk and the platform, as data (described for humans and tools in
//! `docs/api/openapi.yaml`). Both the kiosk's sync client and the reference platform use these
//! types, so the two cannot drift apart silently.
//!
//! Every call is authenticated as one kiosk (`Authorization: Bearer <token>`); a kiosk only writes
//! and reads its own data.

pub mod tracking;

use serde::{Deserialize, Serialize};

/// The API's path prefix.
pub const PREFIX: &str = "/v1";
/// Header that makes a submission POST safe to retry (a UUID created at enqueue time).
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Set on a response that replays the stored result of an earlier request with the same key.
pub const REPLAYED: &str = "Idempotent-Replayed";
/// Most items one batch may carry.
pub const MAX_BATCH: usize = 200;

/// One form field, in the order the form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// One material (a photographed document page), base64 in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub name: String,
    pub mime: String,
    pub data_base64: String,
}

/// A citizen's submission as the kiosk sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The 受理编号 printed on the receipt (`KIOSK-NNNNNN-C`).
    pub tracking_code: String,
    pub service_item: String,
    /// Version of the consent text the citizen agreed to.
    pub consent_version: String,
    /// When the citizen submitted, milliseconds since the Unix epoch (kiosk clock).
    pub created_at_ms: i64,
    pub fields: Vec<Field>,
    pub materials: Vec<Material>,
}

/// The platform's answer to an accepted submission (201, and the same body on every replay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub tracking_code: String,
    /// The platform's own reference.
    pub platform_id: String,
    /// The platform's review state, e.g. `received`.
    pub state: String,
    pub received_at_ms: i64,
}

/// Error body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A stable machine word, see [`codes`].
    pub error: String,
    /// Plain words for a maintainer.
    pub detail: String,
}

/// The `error` words of [`Problem`].
pub mod codes {
    pub const MISSING_KEY: &str = "missing_idempotency_key";
    pub const KEY_REUSED: &str = "idempotency_key_reused";
    pub const IN_FLIGHT: &str = "request_in_flight";
    pub const INVALID: &str = "invalid_submission";
    pub const TRACKING_CODE_TAKEN: &str = "tracking_code_taken";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    pub const MALFORMED: &str = "malformed_request";
    pub const INTERNAL: &str = "internal";
    /// 413: the body is larger than the route allows.
    pub const TOO_LARGE: &str = "payload_too_large";
    /// 408: the body did not arrive in time.
    pub const TIMEOUT: &str = "request_timeout";
    /// 429: this kiosk sends too many requests (`Retry-After` says when to try again).
    pub const RATE_LIMITED: &str = "rate_limited";
}

/// One item of a batch: the submission and its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    pub idempotency_key: String,
    pub submission: Submission,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub items: Vec<BatchItem>,
}

/// Each item's result, as if it had been posted alone: `status` is the HTTP status that single
/// request would have had; `accepted` is set for 200/201, `problem` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    pub idempotency_key: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// True when this is the stored result of an earlier request.
    #[serde(default)]
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResults {
    pub results: Vec<ItemResult>,
}

/// Health of one device as the kiosk reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceHealth {
    /// `reader`, `printer`, `scanner`, `camera`.
    pub device: String,
    /// `ok`, `warning` (e.g. paper near end) or `fault`.
    pub level: String,
    /// Plain words, no personal data (e.g. `paper out`, `cover open`, `unplugged`).
    pub detail: String,
    pub since_ms: i64,
}

/// Sent every minute or so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub software_version: String,
    pub outbox_depth: i64,
    /// Age of the oldest submission not yet acknowledged, seconds.
    pub oldest_unacknowledged_secs: Option<i64>,
    pub rejected: i64,
    /// Entries the kiosk cannot open or parse (quarantined: kept, never sent): an alarm. Absent
    /// from older kiosks (0), and left out while 0 so older platforms still take the heartbeat.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub quarantined: i64,
    pub devices: Vec<DeviceHealth>,
    pub last_error: Option<String>,
    pub sent_at_ms: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A change of the platform's review state of one of the kiosk's submissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// Increases with every change on the platform; pass the last one seen as `after`.
    pub seq: i64,
    pub tracking_code: String,
    pub idempotency_key: String,
    pub state: String,
    pub changed_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanges {
    pub changes: Vec<StatusChange>,
    /// Pass as `after` next time (equal to the input when there was nothing new).
    pub next_after: i64,
}

/// The newest catalog (`GET /v1/catalog`; `ETag` is the quoted version, `If-None-Match` → 304).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogDocument {
    pub version: String,
    pub published_at_ms: i64,
    /// The catalog itself, in the kiosk's catalog format (`data/catalog/catalog.json`).
    pub catalog: serde_json::Value,
}

/// One rating (好差评) as a kiosk reports it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// Unique per rating; a replay with the same key stores nothing twice.
    pub idempotency_key: String,
    pub service_item: Option<String>,
    pub tracking_code: Option<String>,
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub level: u8,
    /// Below 满意: one of [`RATING_REASONS`].
    pub reason: Option<String>,
    pub created_at_ms: i64,
}

/// `POST /v1/ratings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ratings {
    pub ratings: Vec<Rating>,
}

/// The answer to `POST /v1/ratings`: how many were new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingsStored {
    pub stored: u64,
}

/// `POST /v1/queue/tickets`: a queue number for a business category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// The category's letter, `A`–`Z`.
    pub category: String,
}

/// The issued number (`A023`) and how many people wait before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedTicket {
    pub number: String,
    pub ahead: u32,
    pub issued_at_ms: i64,
}

/// Reason codes a rating below 满意 may carry.
pub const RATING_REASONS: [&str; 6] = [
    "long_wait",
    "hard_to_use",
    "device_fault",
    "unclear_materials",
    "staff",
    "other",
];

/// Is `key` a plausible idempotency key (1–128 printable ASCII characters)?
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 128 && key.bytes().all(|b| (0x21..0x7f).contains(&b))
}

/// An update bundle the platform offers (`GET /v1/update?current=VERSION`): a signed RAUC bundle
/// of a newer image. The kiosk only fetches it into its drop directory; RAUC on the kiosk checks
/// the signature and the version, so nothing here is trusted beyond "worth downloading".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOffer {
    /// The image version (the bundle's `SOURCE_DATE_EPOCH`, decimal digits).
    pub version: String,
    /// The bundle's size in bytes.
    pub size: u64,
    /// SHA-256 of the bundle, lower-case hex (to tell a damaged download from a whole one).
    pub sha256: String,
}

/// Where the bundle of an offered version is downloaded (`Range: bytes=N-` resumes).
pub fn update_bundle_path(version: &str) -> String {
    format!("{PREFIX}/update/{version}")
}

/// Orders dotted catalog versions (`2026.11.1` < `2026.11.10`); `None` for anything else.
pub fn version_key(v: &str) -> Option<Vec<u64>> {
    if v.is_empty() {
        return None;
    }
    v.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_versions() {
        assert!(valid_key("0b6c1c62-3f8e-4d4e-9d8e-6a3c2b1a0f9e"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"x".repeat(129)));
        assert!(version_key("2026.11.10") > version_key("2026.11.9"));
        assert_eq!(version_key("2026.x"), None);
        assert_eq!(version_key(""), None);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let ok = r#"{"name":"a","value":"b"}"#;
        assert!(serde_json::from_str::<Field>(ok).is_ok());
        let extra = r#"{"name":"a","value":"b","x":1}"#;
        assert!(serde_json::from_str::<Field>(extra).is_err());
    }

    #[test]
    fn heartbeats_without_the_quarantined_count_still_parse_both_ways() {
        // An older kiosk leaves it out: 0.
        let old = r#"{"software_version":"0.1.0","outbox_depth":0,"oldest_unacknowledged_secs":null,
                      "rejected":0,"devices":[],"last_error":null,"sent_at_ms":1}"#;
        let hb: Heartbeat = serde_json::from_str(old).unwrap();
        assert_eq!(hb.quarantined, 0);
        // A newer kiosk leaves it out while 0, so an older platform (unknown fields refused)
        // still takes its heartbeat; a count is sent.
        assert!(!serde_json::to_string(&hb).unwrap().contains("quarantined"));
        let alarm = Heartbeat {
            quarantined: 2,
            ..hb
        };
        let text = serde_json::to_string(&alarm).unwrap();
        assert!(text.contains("\"quarantined\":2"), "{text}");
        assert_eq!(serde_json::from_str::<Heartbeat>(&text).unwrap(), alarm);
    }
}
