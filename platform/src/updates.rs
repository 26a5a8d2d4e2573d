//! Update bundles for the kiosks (`serve --updates DIR`): the newest `hallkiosk-VERSION.raucb` in
//! DIR (the name `scripts/build-image` gives it) is offered to every kiosk running an older
//! version. The platform does not look inside: a kiosk's RAUC installs only a bundle signed by the
//! update CA on its read-only root and newer than what runs. Both routes are kiosk routes
//! (token, certificate and rate checked by [`crate::guard::kiosk_gate`]).
//!
//! - `GET /v1/update?current=VERSION` → 200 [`hallkiosk_api::UpdateOffer`], or 204 (nothing newer,
//!   or no `--updates`).
//! - `GET /v1/update/{version}` → the bundle's bytes; `Range: bytes=N-` → 206 from byte N (a kiosk
//!   resumes a broken download), N at or past the end → 416.

use crate::guard::{self, Guard};
use crate::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hallkiosk_api::{codes, UpdateOffer};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Where the bundles are, and their hashes once computed (by path, size and modification time).
pub struct Updates {
    dir: Option<PathBuf>,
    hashes: Mutex<HashMap<(PathBuf, u64, SystemTime), String>>,
}

type Shared = Arc<Updates>;

/// The update routes; without a directory nothing is offered.
pub fn router(dir: Option<PathBuf>, guard: Arc<Guard>) -> Router {
    let updates = Arc::new(Updates {
        dir,
        hashes: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/v1/update", get(get_offer))
        .route("/v1/update/{version}", get(get_bundle))
        .route_layer(axum::middleware::from_fn_with_state(
            guard,
            guard::kiosk_gate,
        ))
        .with_state(updates)
}

/// A version as the API writes it: decimal digits, at most 19 (it fits a u64).
fn version_number(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

struct Bundle {
    version: u64,
    path: PathBuf,
    size: u64,
    modified: SystemTime,
}

/// The bundle of `version`, or the newest one (`None`), as a regular file in the directory.
fn find(dir: &std::path::Path, version: Option<u64>) -> std::io::Result<Option<Bundle>> {
    let mut best: Option<Bundle> = None;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(v) = name
            .to_str()
            .and_then(|n| n.strip_prefix("hallkiosk-"))
            .and_then(|n| n.strip_suffix(".raucb"))
            .and_then(version_number)
        else {
            continue;
        };
        if version.is_some_and(|want| want != v) || best.as_ref().is_some_and(|b| b.version >= v) {
            continue;
        }
        let meta = std::fs::metadata(entry.path())?;
        if meta.is_file() {
            best = Some(Bundle {
                version: v,
                path: entry.path(),
                size: meta.len(),
                modified: meta.modified()?,
            });
        }
    }
    Ok(best)
}

fn unavailable(e: std::io::Error) -> ApiError {
    tracing::error!("update bundles: {e}");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        codes::INTERNAL,
        "the update bundles cannot be read; retry later",
    )
}

#[derive(serde::Deserialize)]
struct OfferQuery {
    current: Option<String>,
}

async fn get_offer(
    State(u): State<Shared>,
    query: Result<Query<OfferQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED,
            format!("query: {e}"),
        )
    })?;
    let current = match q.current.as_deref() {
        None => None,
        Some(c) => Some(version_number(c).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::MALFORMED,
                "`current` must be the running image's version (decimal digits)",
            )
        })?),
    };
    let Some(dir) = u.dir.clone() else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let Some(b) = tokio::task::spawn_blocking(move || find(&dir, None))
        .await
        .map_err(|e| unavailable(std::io::Error::other(e)))?
        .map_err(unavailable)?
    else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if current.is_some_and(|c| c >= b.version) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let key = (b.path.clone(), b.size, b.modified);
    let cached = u.hashes.lock().unwrap().get(&key).cloned();
    let sha256 = match cached {
        Some(h) => h,
        None => {
            let path = b.path.clone();
            let h = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
                let mut f = std::fs::File::open(path)?;
                let mut hasher = Sha256::new();
                std::io::copy(&mut f, &mut hasher)?;
                Ok(hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect())
            })
            .await
            .map_err(|e| unavailable(std::io::Error::other(e)))?
            .map_err(unavailable)?;
            u.hashes.lock().unwrap().insert(key, h.clone());
            h
        }
    };
    Ok(Json(UpdateOffer {
        version: b.version.to_string(),
        size: b.size,
        sha256,
    })
    .into_response())
}

/// `bytes=N-` → N; any other form is ignored (the whole body is sent, as RFC 9110 allows).
fn range_start(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(header::RANGE)?.to_str().ok()?;
    let n = v.strip_prefix("bytes=")?.strip_suffix('-')?;
    if n.is_empty() || n.len() > 19 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

async fn get_bundle(
    State(u): State<Shared>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "no update bundle of that version",
        )
    };
    let (Some(dir), Some(v)) = (u.dir.clone(), version_number(&version)) else {
        return Err(not_found());
    };
    let b = tokio::task::spawn_blocking(move || find(&dir, Some(v)))
        .await
        .map_err(|e| unavailable(std::io::Error::other(e)))?
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    let start = range_start(&headers).unwrap_or(0);
    if start > 0 && start >= b.size {
        let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", b.size)) {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return Ok(r);
    }
    let mut file = tokio::fs::File::open(&b.path).await.map_err(unavailable)?;
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(unavailable)?;
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(4);
    let mut left = b.size - start;
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = buf.len().min(left as usize);
            match file.read(&mut buf[..want]).await {
                Ok(0) => {
                    tx.abort(std::io::Error::other("the bundle shrank while being sent"));
                    return;
                }
                Ok(n) => {
                    left -= n as u64;
                    if tx
                        .send_data(Bytes::copy_from_slice(&buf[..n]))
                        .await
                        .is_err()
                    {
                        return; // the kiosk went away
                    }
                }
                Err(e) => {
                    tx.abort(e);
                    return;
                }
            }
        }
    });
    let mut r = axum::body::Body::new(body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(b.size - start));
    if start > 0 {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{}", b.size - 1, b.size)) {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(r)
}
