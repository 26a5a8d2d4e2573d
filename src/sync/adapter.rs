//! How the sync daemon talks to a platform. Provincial platforms differ; each one is an
//! implementation of [`PlatformAdapter`], and the outbox never sees which one it is.
//! [`HttpAdapter`] speaks hallkiosk's own API (docs/api/openapi.yaml) over HTTP(S).

use crate::outbox::Claimed;
use base64::Engine;
use hallkiosk_api::{
    Batch, BatchItem, BatchResults, CatalogDocument, Field, Heartbeat, Material, StatusChange,
    StatusChanges, Submission, UpdateOffer,
};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the platform said about one entry of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemVerdict {
    /// Stored now or earlier (a replay): done.
    Accepted { platform_state: String },
    /// Refused for good (invalid, key reused with another body, not this kiosk's): never resent.
    Rejected { reason: String },
    /// Not now (in flight elsewhere, overloaded): resend later with the same key.
    Retry { reason: String },
}

/// A failure of a whole request. Every kind leaves the entries queued; none rejects a submission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// No answer or a server-side failure (connect, reset, timeout, 5xx, 429, garbage).
    #[error("platform unreachable or failing: {0}")]
    Transient(String),
    /// The platform does not accept this kiosk's credentials (a provisioning problem).
    #[error("platform refused the kiosk's credentials: {0}")]
    Auth(String),
}

/// A platform the kiosk delivers to.
pub trait PlatformAdapter: Send + Sync {
    /// Delivers a batch; one verdict per entry, in order.
    fn push(
        &self,
        batch: &[Claimed],
    ) -> impl Future<Output = Result<Vec<ItemVerdict>, AdapterError>> + Send;
    fn heartbeat(&self, hb: &Heartbeat) -> impl Future<Output = Result<(), AdapterError>> + Send;
    /// The newest catalog, or `None` when `have` is already the newest.
    fn catalog(
        &self,
        have: Option<&str>,
    ) -> impl Future<Output = Result<Option<CatalogDocument>, AdapterError>> + Send;
    /// This kiosk's submissions whose platform state changed after `after`.
    fn status_changes(
        &self,
        after: i64,
    ) -> impl Future<Output = Result<StatusChanges, AdapterError>> + Send;
    /// One submission's platform state (`None`: the platform does not have it).
    fn lookup(
        &self,
        tracking_code: &str,
    ) -> impl Future<Output = Result<Option<StatusChange>, AdapterError>> + Send;
    /// Delivers ratings (好差评); each is stored once by its key. A refused request (a rating the
    /// platform will never take) is `Rejected` for all of them.
    fn ratings(
        &self,
        ratings: &[hallkiosk_api::Rating],
    ) -> impl Future<Output = Result<RatingsVerdict, AdapterError>> + Send;
    /// A number from the hall's queue system for a business category.
    fn ticket(
        &self,
        category: &str,
    ) -> impl Future<Output = Result<hallkiosk_api::IssuedTicket, AdapterError>> + Send;
    /// The update bundle the platform offers a kiosk running image version `current`, if any.
    fn update_offer(
        &self,
        current: &str,
    ) -> impl Future<Output = Result<Option<UpdateOffer>, AdapterError>> + Send;
    /// Appends the offered bundle to the file `part` from its current length (resuming a broken
    /// download), never past `offer.size` bytes in all; returns the file's length afterwards.
    fn fetch_update(
        &self,
        offer: &UpdateOffer,
        part: &Path,
    ) -> impl Future<Output = Result<u64, AdapterError>> + Send;
}

/// What the platform said about a request of ratings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingsVerdict {
    Stored,
    /// Refused for good (4xx other than auth): the kiosk stops resending these.
    Rejected(String),
}

/// How to reach a platform speaking hallkiosk's API.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub base_url: String,
    pub token: String,
    pub timeout: Duration,
    /// The platform's CA (PEM, one or more certificates): set, it is the only trust anchor.
    pub ca_file: Option<PathBuf>,
    /// Mutual TLS: (certificate PEM, key PEM).
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// Largest response body read; a longer one fails the request without being read.
    pub max_response_bytes: usize,
}

/// hallkiosk's own sync API over HTTP(S) with rustls.
pub struct HttpAdapter {
    client: reqwest::Client,
    base: String,
    token: String,
    max_response_bytes: usize,
    /// The request timeout, which a bundle download applies to each read instead of the whole.
    timeout: Duration,
}

impl HttpAdapter {
    pub fn new(s: &HttpSettings) -> anyhow::Result<HttpAdapter> {
        use anyhow::Context;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(s.timeout)
            .connect_timeout(s.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("hallkiosk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &s.ca_file {
            // A private PKI replaces the public roots: a certificate any public CA issued for the
            // platform's name is not trusted then.
            let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
            anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", ca.display());
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some((cert, key)) = &s.client_identity {
            let mut pem =
                std::fs::read(cert).with_context(|| format!("cannot read {}", cert.display()))?;
            pem.extend(
                std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?,
            );
            builder = builder.identity(
                reqwest::Identity::from_pem(&pem)
                    .context("the client certificate and key do not form a TLS identity")?,
            );
        }
        Ok(HttpAdapter {
            client: builder.build().context("cannot set up the HTTP client")?,
            base: s.base_url.trim_end_matches('/').to_string(),
            token: s.token.clone(),
            max_response_bytes: s.max_response_bytes,
            timeout: s.timeout,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), AdapterError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| AdapterError::Transient(describe(&e)))?;
        let status = resp.status().as_u16();
        let body = read_capped(resp, self.max_response_bytes).await?;
        match status {
            401 | 403 => Err(AdapterError::Auth(problem_text(status, &body))),
            _ => Ok((status, body)),
        }
    }

    fn json<T: serde::de::DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, AdapterError> {
        serde_json::from_slice(body).map_err(|e| {
            AdapterError::Transient(format!("HTTP {status} with an unreadable body: {e}"))
        })
    }
}

/// Reads a response body of at most `cap` bytes; a longer one (by its Content-Length or as it
/// streams) is an error, and the rest is not read.
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, AdapterError> {
    let too_long = || {
        AdapterError::Transient(format!(
            "the platform's answer is longer than {cap} bytes ([platform] max_response_mib)"
        ))
    };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_long());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| AdapterError::Transient(describe(&e)))?
    {
        if body.len() + chunk.len() > cap {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn problem_text(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<hallkiosk_api::Problem>(body) {
        Ok(p) => format!("HTTP {status} {}: {}", p.error, p.detail),
        Err(_) => format!("HTTP {status}"),
    }
}

/// The wire form of a claimed entry (materials in base64).
pub fn to_wire(c: &Claimed) -> BatchItem {
    BatchItem {
        idempotency_key: c.idempotency_key.clone(),
        submission: submission_to_wire(
            &c.tracking_code,
            &c.service_item,
            &c.consent_version,
            c.created_at_ms,
            &c.payload,
        ),
    }
}

/// A submission's wire form from its parts.
pub fn submission_to_wire(
    tracking_code: &str,
    service_item: &str,
    consent_version: &str,
    created_at_ms: i64,
    payload: &crate::outbox::Payload,
) -> Submission {
    Submission {
        tracking_code: tracking_code.into(),
        service_item: service_item.into(),
        consent_version: consent_version.into(),
        created_at_ms,
        fields: payload
            .fields
            .iter()
            .map(|(name, value)| Field {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        materials: payload
            .materials
            .iter()
            .map(|m| Material {
                name: m.name.clone(),
                mime: m.mime.clone(),
                data_base64: base64::engine::general_purpose::STANDARD.encode(&m.bytes),
            })
            .collect(),
    }
}

/// Maps one item's status to a verdict (the same rules as a single POST's status).
pub fn verdict(r: &hallkiosk_api::ItemResult) -> ItemVerdict {
    let reason = || match &r.problem {
        Some(p) => format!("HTTP {} {}: {}", r.status, p.error, p.detail),
        None => format!("HTTP {}", r.status),
    };
    match r.status {
        200..=299 => ItemVerdict::Accepted {
            platform_state: r
                .accepted
                .as_ref()
                .map(|a| a.state.clone())
                .unwrap_or_else(|| "received".into()),
        },
        408 | 409 | 425 | 429 | 500..=599 | 401 => ItemVerdict::Retry { reason: reason() },
        _ => ItemVerdict::Rejected { reason: reason() },
    }
}

impl PlatformAdapter for HttpAdapter {
    async fn push(&self, batch: &[Claimed]) -> Result<Vec<ItemVerdict>, AdapterError> {
        let body = serde_json::to_vec(&Batch {
            items: batch.iter().map(to_wire).collect(),
        })
        .map_err(|e| AdapterError::Transient(e.to_string()))?;
        let (status, resp) = self
            .send(
                self.client
                    .post(self.url("/v1/submissions/batch"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body),
            )
            .await?;
        if status != 200 {
            // A failure of the whole request says nothing final about any one submission.
            return Err(AdapterError::Transient(problem_text(status, &resp)));
        }
        let results: BatchResults = Self::json(status, &resp)?;
        if results.results.len() != batch.len() {
            return Err(AdapterError::Transient(format!(
                "the platform answered {} items of {}",
                results.results.len(),
                batch.len()
            )));
        }
        let mut out = Vec::with_capacity(batch.len());
        for (c, r) in batch.iter().zip(&results.results) {
            if r.idempotency_key != c.idempotency_key {
                return Err(AdapterError::Transient(
                    "the platform's answers are not in request order".into(),
                ));
            }
            out.push(verdict(r));
        }
        Ok(out)
    }

    async fn heartbeat(&self, hb: &Heartbeat) -> Result<(), AdapterError> {
        let body = serde_json::to_vec(hb).map_err(|e| AdapterError::Transient(e.to_string()))?;
        let (status, resp) = self
            .send(
                self.client
                    .post(self.url("/v1/heartbeat"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body),
            )
            .await?;
        match status {
            200..=299 => Ok(()),
            _ => Err(AdapterError::Transient(problem_text(status, &resp))),
        }
    }

    async fn catalog(&self, have: Option<&str>) -> Result<Option<CatalogDocument>, AdapterError> {
        let mut req = self.client.get(self.url("/v1/catalog"));
        if let Some(v) = have {
            req = req.header(reqwest::header::IF_NONE_MATCH, format!("\"{v}\""));
        }
        let (status, resp) = self.send(req).await?;
        match status {
            200 => Ok(Some(Self::json(status, &resp)?)),
            304 | 404 => Ok(None),
            _ => Err(AdapterError::Transient(problem_text(status, &resp))),
        }
    }

    async fn status_changes(&self, after: i64) -> Result<StatusChanges, AdapterError> {
        let (status, resp) = self
            .send(
                self.client
                    .get(self.url(&format!("/v1/status-changes?after={after}&limit=500"))),
            )
            .await?;
        match status {
            200 => Self::json(status, &resp),
            _ => Err(AdapterError::Transient(problem_text(status, &resp))),
        }
    }

    async fn ratings(
        &self,
        ratings: &[hallkiosk_api::Rating],
    ) -> Result<RatingsVerdict, AdapterError> {
        let body = serde_json::to_vec(&hallkiosk_api::Ratings {
            ratings: ratings.to_vec(),
        })
        .map_err(|e| AdapterError::Transient(e.to_string()))?;
        let (status, resp) = self
            .send(
                self.client
                    .post(self.url("/v1/ratings"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body),
            )
            .await?;
        match status {
            200..=299 => Ok(RatingsVerdict::Stored),
            400 | 403 | 413 | 422 => Ok(RatingsVerdict::Rejected(problem_text(status, &resp))),
            _ => Err(AdapterError::Transient(problem_text(status, &resp))),
        }
    }

    async fn ticket(&self, category: &str) -> Result<hallkiosk_api::IssuedTicket, AdapterError> {
        let body = serde_json::to_vec(&hallkiosk_api::TicketRequest {
            category: category.to_string(),
        })
        .map_err(|e| AdapterError::Transient(e.to_string()))?;
        let (status, resp) = self
            .send(
                self.client
                    .post(self.url("/v1/queue/tickets"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body),
            )
            .await?;
        match status {
            200..=299 => Self::json(status, &resp),
            _ => Err(AdapterError::Transient(problem_text(status, &resp))),
        }
    }

    async fn update_offer(&self, current: &str) -> Result<Option<UpdateOffer>, AdapterError> {
        let current: String = current.chars().filter(char::is_ascii_digit).collect();
        let (status, resp) = self
            .send(
                self.client
                    .get(self.url(&format!("/v1/update?current={current}"))),
            )
            .await?;
        match status {
            200 => Ok(Some(Self::json(status, &resp)?)),
            204 | 404 => Ok(None),
            _ => Err(AdapterError::Transient(problem_text(status, &resp))),
        }
    }

    async fn fetch_update(&self, offer: &UpdateOffer, part: &Path) -> Result<u64, AdapterError> {
        use tokio::io::AsyncWriteExt;
        let io = |what: &str, e: std::io::Error| {
            AdapterError::Transient(format!("{what} {}: {e}", part.display()))
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(part)
            .await
            .map_err(|e| io("cannot open", e))?;
        let mut have = file
            .metadata()
            .await
            .map_err(|e| io("cannot read", e))?
            .len();
        if have > offer.size {
            // Left by an earlier offer of this version with another size: start over.
            file.set_len(0)
                .await
                .map_err(|e| io("cannot truncate", e))?;
            have = 0;
        }
        if have == offer.size {
            return Ok(have);
        }
        let version: String = offer.version.chars().filter(char::is_ascii_digit).collect();
        let mut req = self
            .client
            .get(self.url(&hallkiosk_api::update_bundle_path(&version)))
            .bearer_auth(&self.token)
            // Each read has the request timeout (below); the whole may take hours on a slow line.
            .timeout(Duration::from_secs(24 * 3600));
        if have > 0 {
            req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
        }
        let mut resp = tokio::time::timeout(self.timeout, req.send())
            .await
            .map_err(|_| AdapterError::Transient("timed out waiting for the bundle".into()))?
            .map_err(|e| AdapterError::Transient(describe(&e)))?;
        let status = resp.status().as_u16();
        match status {
            206 => {
                let range = resp
                    .headers()
                    .get(reqwest::header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !range.starts_with(&format!("bytes {have}-")) {
                    return Err(AdapterError::Transient(format!(
                        "the platform resumed the bundle at `{range}`, not at byte {have}"
                    )));
                }
            }
            200 => {
                // The whole bundle again (the platform ignored the range): start over.
                file.set_len(0)
                    .await
                    .map_err(|e| io("cannot truncate", e))?;
                have = 0;
            }
            _ => {
                let body = read_capped(resp, 64 << 10).await.unwrap_or_default();
                return Err(match status {
                    401 | 403 => AdapterError::Auth(problem_text(status, &body)),
                    _ => AdapterError::Transient(problem_text(status, &body)),
                });
            }
        }
        let more_than_offered = |n: u64| {
            AdapterError::Transient(format!(
                "the platform sends {n} bytes or more of a bundle offered as {} bytes: refused, the rest unread",
                offer.size
            ))
        };
        if let Some(n) = resp.content_length() {
            if have + n > offer.size {
                return Err(more_than_offered(have + n));
            }
        }
        loop {
            let chunk = tokio::time::timeout(self.timeout, resp.chunk())
                .await
                .map_err(|_| AdapterError::Transient("the bundle download stalled".into()))?
                .map_err(|e| AdapterError::Transient(describe(&e)))?;
            let Some(chunk) = chunk else { break };
            if have + chunk.len() as u64 > offer.size {
                return Err(more_than_offered(have + chunk.len() as u64));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| io("cannot write", e))?;
            have += chunk.len() as u64;
        }
        file.sync_all().await.map_err(|e| io("cannot sync", e))?;
        Ok(have)
    }

    async fn lookup(&self, tracking_code: &str) -> Result<Option<StatusChange>, AdapterError> {
        let code: String = tracking_code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let (status, resp) = self
            .send(
                self.client
                    .get(self.url(&format!("/v1/submissions/{code}"))),
            )
            .await?;
        match status {
            200 => Ok(Some(Self::json(status, &resp)?)),
            404 => Ok(None),
            _ => Err(AdapterError::Transient(problem_text(status, &resp))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallkiosk_api::{ItemResult, Problem};

    fn result(status: u16, error: Option<&str>) -> ItemResult {
        ItemResult {
            idempotency_key: "k".into(),
            status,
            accepted: None,
            problem: error.map(|e| Problem {
                error: e.into(),
                detail: "d".into(),
            }),
            replayed: false,
        }
    }

    #[test]
    fn item_statuses_map_to_verdicts() {
        assert!(matches!(
            verdict(&result(201, None)),
            ItemVerdict::Accepted { .. }
        ));
        assert!(matches!(
            verdict(&result(200, None)),
            ItemVerdict::Accepted { .. }
        ));
        for retry in [408, 409, 429, 500, 503] {
            assert!(
                matches!(
                    verdict(&result(retry, Some("x"))),
                    ItemVerdict::Retry { .. }
                ),
                "{retry}"
            );
        }
        for reject in [400, 403, 422] {
            match verdict(&result(reject, Some("invalid_submission"))) {
                ItemVerdict::Rejected { reason } => assert!(reason.contains("invalid_submission")),
                v => panic!("{reject}: {v:?}"),
            }
        }
    }
}
