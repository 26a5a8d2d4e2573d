//! The reference platform: the sync API a kiosk talks to (docs/api/openapi.yaml) and a fleet status
//! page. Good enough to run a hall's kiosks against in a test lab and to prove the kiosk's exactly-once
//! delivery; a provincial platform is reached through the kiosk's adapter trait instead.

pub mod fleet;
pub mod guard;
pub mod lab;
pub mod server;
pub mod store;
pub mod tls;
pub mod updates;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use base64::Engine;
use guard::{body_limit, Body, Guard, Kiosk};
use hallkiosk_api::{codes, tracking, Batch, BatchResults, ItemResult, Problem, Submission};
use std::sync::Arc;
use store::{Answer, Store};

/// An error answer: status and a [`Problem`] body.
#[derive(Debug)]
pub struct ApiError(StatusCode, Problem);

impl ApiError {
    fn new(status: StatusCode, error: &str, detail: impl Into<String>) -> ApiError {
        ApiError(
            status,
            Problem {
                error: error.into(),
                detail: detail.into(),
            },
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0, Json(self.1)).into_response();
        if self.0 == StatusCode::CONFLICT || self.0.is_server_error() {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        tracing::error!("store: {e}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::INTERNAL,
            "the platform's database is unavailable; retry later",
        )
    }
}

pub type Shared = Arc<Store>;

/// All routes of the platform: the kiosks' API and the operators' fleet page.
pub fn router(store: Shared, guard: Arc<Guard>) -> Router {
    api_router(store.clone(), guard.clone()).merge(fleet_router(store, guard))
}

/// The kiosks' API (`/v1`, each request authenticated, bound and rate-limited before its body is
/// read; see [`guard`]) and `/healthz`.
pub fn api_router(store: Shared, guard: Arc<Guard>) -> Router {
    Router::new()
        .route("/v1/submissions", post(post_submission))
        .route("/v1/submissions/batch", post(post_batch))
        .route("/v1/submissions/{tracking_code}", get(get_submission))
        .route("/v1/status-changes", get(get_status_changes))
        .route("/v1/catalog", get(get_catalog))
        .route("/v1/heartbeat", post(post_heartbeat))
        .route("/v1/ratings", post(post_ratings))
        .route("/v1/queue/tickets", post(post_ticket))
        .route_layer(axum::middleware::from_fn_with_state(
            guard,
            guard::kiosk_gate,
        ))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(store)
}

/// The fleet page and its JSON, for operators only ([`guard::operator_gate`]).
pub fn fleet_router(store: Shared, guard: Arc<Guard>) -> Router {
    Router::new()
        .route("/fleet", get(get_fleet))
        .route("/fleet.json", get(get_fleet_json))
        .route("/fleet/ratings.json", get(get_flagged_ratings))
        .route_layer(axum::middleware::from_fn_with_state(
            guard,
            guard::operator_gate,
        ))
        .with_state(store)
}

/// Whether any text in `v` holds a NUL character (PostgreSQL's text cannot store one).
pub fn has_nul(v: &impl serde::Serialize) -> bool {
    fn walk(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().any(walk),
            serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || walk(v)),
            _ => false,
        }
    }
    serde_json::to_value(v).map(|v| walk(&v)).unwrap_or(true)
}

/// Checks what a submission must satisfy before it is stored.
pub fn validate(kiosk: &str, s: &Submission) -> Result<(), ApiError> {
    let invalid =
        |detail: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, codes::INVALID, detail);
    if has_nul(s) {
        return Err(invalid("NUL characters are not allowed in text".into()));
    }
    if tracking::kiosk_of(&s.tracking_code).is_some_and(|k| k != kiosk) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            format!(
                "tracking code {} is not one of kiosk {kiosk}'s",
                s.tracking_code
            ),
        ));
    }
    if !tracking::is_code_of(kiosk, &s.tracking_code) {
        return Err(invalid(format!(
            "tracking code {} is not in the kiosk's format ({kiosk}-NNNNNN-C) or fails its \
             check character",
            s.tracking_code
        )));
    }
    if s.service_item.is_empty() || s.service_item.chars().count() > 128 {
        return Err(invalid("service_item is empty or too long".into()));
    }
    if s.consent_version.is_empty() {
        return Err(invalid("consent_version is empty".into()));
    }
    if s.fields.len() > 500 || s.materials.len() > 50 {
        return Err(invalid("too many fields or materials".into()));
    }
    for m in &s.materials {
        if base64::engine::general_purpose::STANDARD
            .decode(&m.data_base64)
            .is_err()
        {
            return Err(invalid(format!("material {} is not valid base64", m.name)));
        }
    }
    Ok(())
}

fn answer_response(a: Answer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, Json(a.body)).into_response();
    if a.replayed {
        r.headers_mut()
            .insert(hallkiosk_api::REPLAYED, HeaderValue::from_static("true"));
    }
    if status == StatusCode::CONFLICT {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED,
            format!("the body is not the expected JSON: {e}"),
        )
    })
}

async fn post_submission(
    State(store): State<Shared>,
    Extension(Kiosk(kiosk)): Extension<Kiosk>,
    headers: HeaderMap,
    Body(body): Body<{ body_limit::SUBMISSION }>,
) -> Result<Response, ApiError> {
    let key = headers
        .get(hallkiosk_api::IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::MISSING_KEY,
                "a submission needs an Idempotency-Key header (a UUID made when it was queued)",
            )
        })?;
    if !hallkiosk_api::valid_key(&key) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::MISSING_KEY,
            "the Idempotency-Key must be 1–128 printable ASCII characters",
        ));
    }
    let submission: Submission = parse_json(&body)?;
    validate(&kiosk, &submission)?;
    let mut answers = submit_to_completion(store, kiosk, vec![(key, submission)]).await?;
    Ok(answer_response(answers.remove(0)))
}

async fn post_batch(
    State(store): State<Shared>,
    Extension(Kiosk(kiosk)): Extension<Kiosk>,
    Body(body): Body<{ body_limit::BATCH }>,
) -> Result<Json<BatchResults>, ApiError> {
    let batch: Batch = parse_json(&body)?;
    if batch.items.len() > hallkiosk_api::MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED,
            format!("at most {} items per batch", hallkiosk_api::MAX_BATCH),
        ));
    }
    // Items that fail on their own are answered at once; the others go to the store together.
    let mut results: Vec<Option<ItemResult>> = Vec::with_capacity(batch.items.len());
    let mut to_store = Vec::new();
    for item in batch.items {
        let early = if !hallkiosk_api::valid_key(&item.idempotency_key) {
            Some(ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::MISSING_KEY,
                "each item needs an idempotency_key of 1–128 printable ASCII characters",
            ))
        } else {
            validate(&kiosk, &item.submission).err()
        };
        match early {
            Some(ApiError(status, problem)) => results.push(Some(ItemResult {
                idempotency_key: item.idempotency_key,
                status: status.as_u16(),
                accepted: None,
                problem: Some(problem),
                replayed: false,
            })),
            None => {
                results.push(None);
                to_store.push((item.idempotency_key, item.submission));
            }
        }
    }
    let keys: Vec<String> = to_store.iter().map(|(k, _)| k.clone()).collect();
    let answers = submit_to_completion(store, kiosk, to_store).await?;
    let mut stored = keys.into_iter().zip(answers);
    let results = results
        .into_iter()
        .filter_map(|r| {
            r.or_else(|| {
                stored.next().map(|(key, a)| {
                    let ok = a.status < 300;
                    ItemResult {
                        idempotency_key: key,
                        status: a.status,
                        accepted: ok
                            .then(|| serde_json::from_value(a.body.clone()).ok())
                            .flatten(),
                        problem: (!ok).then(|| serde_json::from_value(a.body).ok()).flatten(),
                        replayed: a.replayed,
                    }
                })
            })
        })
        .collect();
    Ok(Json(BatchResults { results }))
}

/// Stores submissions in a task of its own: a client that hangs up mid-request does not cancel the
/// work between taking the idempotency leases and recording the answers (which would leave the keys
/// leased, answering 409, until the lease expires).
async fn submit_to_completion(
    store: Shared,
    kiosk: String,
    items: Vec<(String, Submission)>,
) -> Result<Vec<Answer>, ApiError> {
    let task = tokio::spawn(async move { store.submit_batch(&kiosk, &items).await });
    match task.await {
        Ok(result) => Ok(result?),
        Err(e) => {
            tracing::error!("submission task failed: {e}");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL,
                "the platform could not finish the request; retry later",
            ))
        }
    }
}

async fn get_submission(
    State(store): State<Shared>,
    Extension(Kiosk(kiosk)): Extension<Kiosk>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    match store.lookup(&kiosk, &code).await? {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            format!("this kiosk has no submission {code} on the platform"),
        )),
    }
}

#[derive(serde::Deserialize)]
struct ChangesQuery {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

async fn get_status_changes(
    State(store): State<Shared>,
    Extension(Kiosk(kiosk)): Extension<Kiosk>,
    query: Result<Query<ChangesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<hallkiosk_api::StatusChanges>, ApiError> {
    let bad = |detail: String| ApiError::new(StatusCode::BAD_REQUEST, codes::MALFORMED, detail);
    let Query(q) = query.map_err(|e| bad(format!("query: {e}")))?;
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) || q.after < 0 {
        return Err(bad("use 0 ≤ after and 1 ≤ limit ≤ 1000".into()));
    }
    let changes = store.status_changes(&kiosk, q.after, limit).await?;
    let next_after = changes.last().map(|c| c.seq).unwrap_or(q.after);
    Ok(Json(hallkiosk_api::StatusChanges {
        changes,
        next_after,
    }))
}

async fn get_catalog(
    State(store): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let no_catalog = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "no catalog has been published",
        )
    };
    // Most calls are a kiosk asking whether it has the newest: answered from the version alone,
    // without loading and parsing the catalog.
    let Some(version) = store.newest_catalog_version().await? else {
        return Err(no_catalog());
    };
    let has_it = |version: &str| {
        let etag = format!("\"{version}\"");
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    };
    let (version, mut r) = if has_it(&version) {
        (version, StatusCode::NOT_MODIFIED.into_response())
    } else {
        let doc = store.newest_catalog().await?.ok_or_else(no_catalog)?;
        (doc.version.clone(), Json(doc).into_response())
    };
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// `POST /v1/queue/tickets`: the next number of a category in the hall's queue; numbering starts
/// afresh each day of the platform host's local time (the hall's day).
async fn post_ticket(
    State(store): State<Shared>,
    Extension(Kiosk(kiosk)): Extension<Kiosk>,
    Body(body): Body<{ body_limit::TICKET }>,
) -> Result<(StatusCode, Json<hallkiosk_api::IssuedTicket>), ApiError> {
    let r: hallkiosk_api::TicketRequest = parse_json(&body)?;
    if r.category.len() != 1 || !r.category.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED,
            "category: one capital letter A–Z",
        ));
    }
    let now = fleet::now_ms();
    let day = chrono::Local::now().format("%Y-%m-%d").to_string();
    let (seq, ahead) = match store.issue_ticket(&kiosk, &day, &r.category).await {
        Ok(x) => x,
        Err(store::StoreError::Invalid(why)) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL,
                why,
            ))
        }
        Err(e) => return Err(e.into()),
    };
    Ok((
        StatusCode::CREATED,
        Json(hallkiosk_api::IssuedTicket {
            number: format!("{}{seq:03}", r.category),
            ahead: ahead.clamp(0, u32::MAX as i64) as u32,
            issued_at_ms: now,
        }),
    ))
}

/// `POST /v1/ratings`: a kiosk's ratings, stored once each.
async fn post_ratings(
    State(store): State<Shared>,
    Extension(Kiosk(kiosk)): Extension<Kiosk>,
    Body(body): Body<{ body_limit::RATINGS }>,
) -> Result<Json<hallkiosk_api::RatingsStored>, ApiError> {
    let r: hallkiosk_api::Ratings = parse_json(&body)?;
    let bad = |detail: String| ApiError::new(StatusCode::BAD_REQUEST, codes::MALFORMED, detail);
    if has_nul(&r) {
        return Err(bad("NUL characters are not allowed in text".into()));
    }
    if r.ratings.len() > 500 {
        return Err(bad("at most 500 ratings per request".into()));
    }
    for x in &r.ratings {
        if !hallkiosk_api::valid_key(&x.idempotency_key) {
            return Err(bad(
                "idempotency_key: 1–128 printable ASCII characters".into()
            ));
        }
        if !(1..=5).contains(&x.level) {
            return Err(bad(format!("level {} is not 1–5", x.level)));
        }
        if let Some(reason) = &x.reason {
            if !hallkiosk_api::RATING_REASONS.contains(&reason.as_str()) {
                return Err(bad(format!("unknown reason {reason:?}")));
            }
        }
        if x.service_item
            .as_ref()
            .is_some_and(|s| s.chars().count() > 128)
            || x.tracking_code
                .as_ref()
                .is_some_and(|s| s.chars().count() > 64)
        {
            return Err(bad("service_item or tracking_code too long".into()));
        }
    }
    let stored = store.add_ratings(&kiosk, &r.ratings).await?;
    Ok(Json(hallkiosk_api::RatingsStored { stored }))
}

async fn post_heartbeat(
    State(store): State<Shared>,
    Extension(Kiosk(kiosk)): Extension<Kiosk>,
    Body(body): Body<{ body_limit::HEARTBEAT }>,
) -> Result<StatusCode, ApiError> {
    let hb: hallkiosk_api::Heartbeat = parse_json(&body)?;
    if has_nul(&hb) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED,
            "NUL characters are not allowed in text",
        ));
    }
    if let Some(d) = hb
        .devices
        .iter()
        .find(|d| !["ok", "warning", "fault"].contains(&d.level.as_str()))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED,
            format!("device {}: level is ok, warning or fault", d.device),
        ));
    }
    store.heartbeat(&kiosk, &hb).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_fleet(State(store): State<Shared>) -> Result<Html<String>, ApiError> {
    let kiosks = store.kiosks().await?;
    let now = fleet::now_ms();
    let ratings = fleet::ratings_section(
        &store.rating_counts().await?,
        &store.flagged_ratings(200).await?,
        now,
    );
    Ok(Html(fleet::page(&kiosks, &ratings, now)))
}

/// Ratings below 满意, newest first (the fleet page's follow-up list).
async fn get_flagged_ratings(
    State(store): State<Shared>,
) -> Result<Json<Vec<store::RatingRow>>, ApiError> {
    Ok(Json(store.flagged_ratings(1000).await?))
}

async fn get_fleet_json(
    State(store): State<Shared>,
) -> Result<Json<Vec<store::KioskRow>>, ApiError> {
    Ok(Json(store.kiosks().await?))
}
