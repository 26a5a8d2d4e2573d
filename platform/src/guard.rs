//! The platform under abuse (docs/platform.md, "Limits"): who may ask (a kiosk's token, bound to
//! its client certificate; an operator's token for the fleet page), how many requests run at once,
//! how fast one kiosk may ask, and how much and how slowly a request body may arrive. Everything
//! here runs before a request body is read.

use crate::{ApiError, Shared};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hallkiosk_api::codes;
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The server's limits; `hallkiosk-platform serve --help` names the flags that set them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A TLS handshake must finish within this.
    pub handshake_timeout: Duration,
    /// A request's headers must arrive within this (also how long an idle connection stays open).
    pub header_timeout: Duration,
    /// A request's body must arrive within this.
    pub body_timeout: Duration,
    /// Open connections at most; more are closed at once.
    pub max_connections: usize,
    /// Requests being handled at most; more are answered 503 with `Retry-After`.
    pub max_requests: usize,
    /// Requests per second one kiosk may make on average…
    pub kiosk_rate: f64,
    /// …and in a burst; more are answered 429 with `Retry-After`.
    pub kiosk_burst: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            max_connections: 16_000,
            max_requests: 256,
            kiosk_rate: 2.0,
            kiosk_burst: 60.0,
        }
    }
}

/// Body limits per route: a heartbeat is small, a batch carries photographed pages (≤ 300 KiB
/// each as JPEG, a third more in base64).
pub mod body_limit {
    pub const SUBMISSION: usize = 24 * 1024 * 1024;
    pub const BATCH: usize = 64 * 1024 * 1024;
    pub const HEARTBEAT: usize = 64 * 1024;
    pub const RATINGS: usize = 1024 * 1024;
    pub const TICKET: usize = 4 * 1024;
}

/// What the guard layers share: the store (tokens), the limits and their counters.
pub struct Guard {
    pub store: Shared,
    pub limits: Limits,
    requests: Arc<Semaphore>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Guard {
    pub fn new(store: Shared, limits: Limits) -> Arc<Guard> {
        Arc::new(Guard {
            store,
            requests: Arc::new(Semaphore::new(limits.max_requests.max(1))),
            limits,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from `kiosk`'s bucket, or says how long until there is one.
    fn take(&self, kiosk: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let rate = self.limits.kiosk_rate.max(0.001);
        let burst = self.limits.kiosk_burst.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(kiosk.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }
}

/// The kiosk a request is authenticated as (put in the request's extensions by [`kiosk_gate`]).
#[derive(Debug, Clone)]
pub struct Kiosk(pub String);

/// The names a connection's client certificate carries (subject CN and DNS/URI alternative
/// names); present on requests over mutual TLS.
#[derive(Debug, Clone)]
pub struct PeerNames(pub Arc<Vec<String>>);

/// How long the body of this request may take (put in the extensions by the gates).
#[derive(Debug, Clone, Copy)]
struct BodyTimeout(Duration);

fn with_retry_after(mut r: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn busy() -> Response {
    with_retry_after(
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::INTERNAL,
            "the platform is busy; retry later",
        )
        .into_response(),
        1,
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Every `/v1` request: a free request slot (else 503), the kiosk's token (else 401), the
/// connection's client certificate naming that kiosk (else 403), the kiosk's rate (else 429).
/// Only then is the body read, by the handler.
pub async fn kiosk_gate(State(g): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let Ok(_permit) = g.requests.clone().try_acquire_owned() else {
        return busy();
    };
    let unauthorized = |detail: &str| {
        ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, detail).into_response()
    };
    let Some(token) = bearer(req.headers()) else {
        return unauthorized("send `Authorization: Bearer <kiosk token>`");
    };
    let kiosk = match g.store.kiosk_for_token(token).await {
        Ok(Some(k)) => k,
        Ok(None) => return unauthorized("unknown kiosk token"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(PeerNames(names)) = req.extensions().get::<PeerNames>() {
        if !names.iter().any(|n| n == &kiosk) {
            tracing::warn!("kiosk {kiosk}'s token over a certificate for {names:?}");
            return ApiError::new(
                StatusCode::FORBIDDEN,
                codes::FORBIDDEN,
                format!("the client certificate is not kiosk {kiosk}'s"),
            )
            .into_response();
        }
    }
    if let Err(wait) = g.take(&kiosk) {
        return with_retry_after(
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                format!("kiosk {kiosk} sends too many requests; slow down"),
            )
            .into_response(),
            wait.as_secs_f64().ceil() as u64,
        );
    }
    req.extensions_mut().insert(Kiosk(kiosk));
    req.extensions_mut()
        .insert(BodyTimeout(g.limits.body_timeout));
    next.run(req).await
}

/// The fleet page and its JSON: a free request slot and an operator's token, as HTTP Basic
/// (`operator name : token`, what a browser asks for) or `Bearer <token>`.
pub async fn operator_gate(State(g): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let Ok(_permit) = g.requests.clone().try_acquire_owned() else {
        return busy();
    };
    let headers = req.headers();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    let claim = match (basic, bearer(headers)) {
        (Some((name, token)), _) => Some((Some(name), token)),
        (None, Some(token)) => Some((None, token.to_string())),
        (None, None) => None,
    };
    let ok = match claim {
        Some((name, token)) => match g.store.operator_for_token(&token).await {
            Ok(Some(op)) => name.is_none_or(|n| n == op),
            Ok(None) => false,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => false,
    };
    if !ok {
        let mut r = ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "the fleet page is for operators: log in with an operator's name and token \
             (`hallkiosk-platform operator add NAME`)",
        )
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"hallkiosk fleet\", charset=\"UTF-8\""),
        );
        return r;
    }
    next.run(req).await
}

/// A request body of at most `LIMIT` bytes, read within the body timeout: 413 when it is (or
/// says it is) longer, 408 when it comes too slowly.
pub struct Body<const LIMIT: usize>(pub Bytes);

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for Body<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::TOO_LARGE,
                format!("this request's body may be at most {LIMIT} bytes"),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > LIMIT as u64) {
            return Err(too_large());
        }
        let timeout = req
            .extensions()
            .get::<BodyTimeout>()
            .map_or(Limits::default().body_timeout, |t| t.0);
        let body = http_body_util::Limited::new(req.into_body(), LIMIT);
        match tokio::time::timeout(timeout, body.collect()).await {
            Ok(Ok(collected)) => Ok(Body(collected.to_bytes())),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
            Ok(Err(e)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::MALFORMED,
                format!("the body could not be read: {e}"),
            )),
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                codes::TIMEOUT,
                format!("the body did not arrive within {} s", timeout.as_secs_f64()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kiosk_gets_its_burst_then_its_rate() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = rt
            .block_on(crate::store::Store::open(
                dir.path().join("p.db").to_str().unwrap(),
                Duration::from_secs(30),
            ))
            .unwrap();
        let g = Guard::new(
            Arc::new(store),
            Limits {
                kiosk_rate: 0.5,
                kiosk_burst: 3.0,
                ..Limits::default()
            },
        );
        for _ in 0..3 {
            assert!(g.take("K1").is_ok());
        }
        let wait = g.take("K1").unwrap_err();
        assert!(wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2));
        // Another kiosk has its own bucket.
        assert!(g.take("K2").is_ok());
    }
}
