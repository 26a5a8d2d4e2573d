//! The sync API's promises, checked against the real server process on SQLite and on PostgreSQL:
//! Idempotency-Key semantics (replay → original result, same key + other body → 422, in flight → 409,
//! missing → 400, an abandoned lease is taken over), per-kiosk auth and isolation, batches answering
//! per item, the catalog with ETag, status changes, heartbeats and the fleet page.

use hallkiosk_api::tracking::code;
use hallkiosk_api::{Batch, BatchItem, BatchResults, Field, Material, StatusChanges, Submission};
use hallkiosk_platform::lab::{PlatformProcess, Postgres};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

const TOKEN_A: &str = "token-of-kiosk-A-0123456789";
const TOKEN_B: &str = "token-of-kiosk-B-0123456789";
const TOKEN_KA: &str = "token-of-kiosk-KA-0123456789";
const OPERATOR: &str = "operator-token-0123456789abcdef";

fn submission(kiosk: &str, n: u64, name: &str) -> Submission {
    Submission {
        tracking_code: code(kiosk, n),
        service_item: "resident-id-renewal".into(),
        consent_version: "2026-01".into(),
        created_at_ms: 1_790_000_000_000 + n as i64,
        fields: vec![Field {
            name: "name".into(),
            value: name.into(),
        }],
        materials: vec![Material {
            name: "page-1.jpg".into(),
            mime: "image/jpeg".into(),
            data_base64: "/9j/4AAQ".into(),
        }],
    }
}

struct Api {
    client: Client,
    url: String,
}

impl Api {
    fn post(&self, token: Option<&str>, key: Option<&str>, body: &Submission) -> Response {
        let mut req = self
            .client
            .post(format!("{}/v1/submissions", self.url))
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(body).unwrap());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().unwrap()
    }

    fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .unwrap()
    }
}

fn json(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn admin(db: &str, args: &[&str]) -> String {
    hallkiosk_platform::lab::admin(bin(), db, args)
}

/// The binary under test; `HALLKIOSK_PLATFORM_BIN` names another build (e.g. an older one).
fn bin() -> &'static std::path::Path {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var_os("HALLKIOSK_PLATFORM_BIN")
            .map(Into::into)
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_hallkiosk-platform").into())
    })
}

fn conformance(db: &str) {
    admin(db, &["kiosk", "add", "KA-01", "--token", TOKEN_A]);
    admin(db, &["kiosk", "add", "KB-02", "--token", TOKEN_B]);
    // Kiosk `KA` names a prefix of KA-01's codes.
    admin(db, &["kiosk", "add", "KA", "--token", TOKEN_KA]);
    // One token, one kiosk (UNIQUE index on the token's hash; the command says why).
    let out = std::process::Command::new(bin())
        .args(["--db", db, "kiosk", "add", "KC-03", "--token", TOKEN_A])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("another kiosk"),
        "{out:?}"
    );
    let catalog = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/catalog/catalog.json"
    ))
    .unwrap();
    let platform = PlatformProcess::start(bin(), db, &["--lease-secs", "30"]);
    let api = Api {
        client: Client::new(),
        url: platform.url.clone(),
    };
    let s1 = submission("KA-01", 1, "张三");

    // Auth: no token, a wrong token.
    assert_eq!(api.post(None, Some("k-1"), &s1).status(), 401);
    assert_eq!(
        api.post(Some("wrong-token-123456"), Some("k-1"), &s1)
            .status(),
        401
    );
    // Missing key → 400 and nothing stored.
    let (status, body) = json(api.post(Some(TOKEN_A), None, &s1));
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("missing_idempotency_key"))
    );

    // First request → 201; replay → the same status and body, marked as a replay.
    let first = api.post(Some(TOKEN_A), Some("k-1"), &s1);
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    let first_body: Value = first.json().unwrap();
    assert_eq!(first_body["tracking_code"], s1.tracking_code.as_str());
    let replay = api.post(Some(TOKEN_A), Some("k-1"), &s1);
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["Idempotent-Replayed"], "true");
    assert_eq!(replay.json::<Value>().unwrap(), first_body);

    // Same key, different body → 422; the stored submission is unchanged.
    let (status, body) =
        json(api.post(Some(TOKEN_A), Some("k-1"), &submission("KA-01", 1, "李四")));
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("idempotency_key_reused"))
    );

    // Invalid submissions → 422 (bad check character) / 403 (another kiosk's code) / 400 (not JSON).
    let mut bad = submission("KA-01", 2, "王五");
    bad.tracking_code.pop();
    bad.tracking_code.push(if s1.tracking_code.ends_with('Z') {
        'Y'
    } else {
        'Z'
    });
    let bad_code = bad.tracking_code.clone();
    let (status, body) = json(api.post(Some(TOKEN_A), Some("k-bad"), &bad));
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid_submission")),
        "{bad_code}"
    );
    let (status, _) = json(api.post(Some(TOKEN_A), Some("k-b"), &submission("KB-02", 1, "x")));
    assert_eq!(status, 403);
    // Kiosk KA may not claim KA-01's codes (they start with `KA-` and check themselves), nor a code
    // of its own prefix in another format.
    let (status, _) = json(api.post(Some(TOKEN_KA), Some("k-ka"), &submission("KA-01", 9, "x")));
    assert_eq!(status, 403, "kiosk KA claiming KA-01's code");
    let mut odd = submission("KA", 9, "x");
    odd.tracking_code = format!(
        "KA-9-{}",
        hallkiosk_api::tracking::check_char("KA-9").unwrap()
    );
    let (status, _) = json(api.post(Some(TOKEN_KA), Some("k-ka2"), &odd));
    assert_eq!(status, 422, "{}", odd.tracking_code);
    assert_eq!(
        api.post(Some(TOKEN_KA), Some("k-ka3"), &submission("KA", 9, "x"))
            .status(),
        201
    );
    let r = api
        .client
        .post(format!("{}/v1/submissions", api.url))
        .bearer_auth(TOKEN_A)
        .header("Idempotency-Key", "k-junk")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);

    // In flight → 409 with Retry-After: a lease held by a request that is still running.
    let s3 = submission("KA-01", 3, "赵六");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt
        .block_on(hallkiosk_platform::store::Store::open(
            db,
            std::time::Duration::from_secs(30),
        ))
        .unwrap();
    let far = i64::MAX / 2;
    rt.block_on(store.hold_lease("KA-01", "k-3", &s3, far))
        .unwrap();
    let r = api.post(Some(TOKEN_A), Some("k-3"), &s3);
    assert_eq!(r.status(), 409);
    assert!(r.headers().get("Retry-After").is_some());
    // A lease left by a crashed request (expired) is taken over by the retry.
    let s4 = submission("KA-01", 4, "钱七");
    rt.block_on(store.hold_lease("KA-01", "k-4", &s4, 1))
        .unwrap();
    assert_eq!(api.post(Some(TOKEN_A), Some("k-4"), &s4).status(), 201);
    assert_eq!(api.post(Some(TOKEN_A), Some("k-4"), &s4).status(), 201);

    // Isolation: keys are per kiosk; B cannot see A's submission.
    let b1 = submission("KB-02", 1, "孙八");
    assert_eq!(
        api.post(Some(TOKEN_B), Some("k-1"), &b1).status(),
        201,
        "B's own k-1"
    );
    let path = format!("/v1/submissions/{}", s1.tracking_code);
    assert_eq!(api.get(TOKEN_A, &path).status(), 200);
    assert_eq!(api.get(TOKEN_B, &path).status(), 404);

    // A batch answers per item as a single request would.
    let batch = Batch {
        items: vec![
            BatchItem {
                idempotency_key: "k-1".into(),
                submission: s1.clone(),
            },
            BatchItem {
                idempotency_key: "k-5".into(),
                submission: submission("KA-01", 5, "周九"),
            },
            BatchItem {
                idempotency_key: "k-6".into(),
                submission: submission("KA-01", 1, "吴十"),
            },
            BatchItem {
                idempotency_key: "".into(),
                submission: submission("KA-01", 7, "郑"),
            },
            BatchItem {
                idempotency_key: "k-bad2".into(),
                submission: bad.clone(),
            },
        ],
    };
    let r = api
        .client
        .post(format!("{}/v1/submissions/batch", api.url))
        .bearer_auth(TOKEN_A)
        .json(&batch)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let results: BatchResults = r.json().unwrap();
    let statuses: Vec<(u16, bool)> = results
        .results
        .iter()
        .map(|r| (r.status, r.replayed))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (201, true),
            (201, false),
            (422, false),
            (400, false),
            (422, false)
        ]
    );
    assert_eq!(
        results.results[2].problem.as_ref().unwrap().error,
        "tracking_code_taken"
    );

    // Stored exactly once each: k-1, k-4, k-5 for A; k-1 for B.
    let stored: Vec<Value> = admin(db, &["submissions"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |k: &str| stored.iter().filter(|s| s["kiosk_id"] == k).count();
    assert_eq!((of("KA-01"), of("KB-02")), (3, 1), "{stored:?}");

    // Status changes: the kiosk sees its own, in order, and then a clerk's decision.
    let (status, body) = json(api.get(TOKEN_A, "/v1/status-changes?after=0"));
    assert_eq!(status, 200);
    let changes: StatusChanges = serde_json::from_value(body).unwrap();
    assert_eq!(changes.changes.len(), 3);
    assert!(changes
        .changes
        .iter()
        .all(|c| c.tracking_code.starts_with("KA-01-")));
    admin(
        db,
        &["review", "--kiosk", "KA-01", &s1.tracking_code, "approved"],
    );
    let (_, body) = json(api.get(
        TOKEN_A,
        &format!("/v1/status-changes?after={}", changes.next_after),
    ));
    let later: StatusChanges = serde_json::from_value(body).unwrap();
    assert_eq!(later.changes.len(), 1);
    assert_eq!(
        (
            later.changes[0].tracking_code.as_str(),
            later.changes[0].state.as_str()
        ),
        (s1.tracking_code.as_str(), "approved")
    );

    // Catalog: 404 before any is published, then the newest version, 304 when the kiosk has it.
    assert_eq!(api.get(TOKEN_A, "/v1/catalog").status(), 404);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        catalog.replace("\"version\": \"2026.11.1\"", "\"version\": \"2026.11.10\""),
    )
    .unwrap();
    admin(db, &["catalog", "publish", file.path().to_str().unwrap()]);
    std::fs::write(
        file.path(),
        catalog.replace("\"version\": \"2026.11.1\"", "\"version\": \"2026.11.9\""),
    )
    .unwrap();
    admin(db, &["catalog", "publish", file.path().to_str().unwrap()]);
    let r = api.get(TOKEN_A, "/v1/catalog");
    assert_eq!(r.headers()["ETag"], "\"2026.11.10\"");
    let doc: Value = r.json().unwrap();
    assert_eq!(doc["version"], "2026.11.10");
    assert!(doc["catalog"]["themes"].is_array());
    let r = api
        .client
        .get(format!("{}/v1/catalog", api.url))
        .bearer_auth(TOKEN_A)
        .header("If-None-Match", "\"2026.11.10\"")
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);

    // Heartbeat → stored → on the fleet page, with the printer's fault flagged.
    let hb = serde_json::json!({
        "software_version": "0.1.0", "outbox_depth": 4, "oldest_unacknowledged_secs": 125,
        "rejected": 0, "last_error": null, "sent_at_ms": 1,
        "devices": [{"device": "printer", "level": "fault", "detail": "paper out", "since_ms": 1}]
    });
    let r = api
        .client
        .post(format!("{}/v1/heartbeat", api.url))
        .bearer_auth(TOKEN_B)
        .json(&hb)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        api.client
            .get(format!("{}/fleet", api.url))
            .send()
            .unwrap()
            .status(),
        401,
        "the fleet page without an operator's login"
    );
    admin(db, &["operator", "add", "ops", "--token", OPERATOR]);
    let page = api
        .client
        .get(format!("{}/fleet", api.url))
        .basic_auth("ops", Some(OPERATOR))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let row = page
        .lines()
        .find(|l| l.contains("<td>KB-02</td>"))
        .expect("KB-02 row");
    assert!(
        row.contains("attention") && row.contains("printer: paper out") && row.contains("2 min"),
        "{row}"
    );
    let row = page
        .lines()
        .find(|l| l.contains("<td>KA-01</td>"))
        .expect("KA-01 row");
    assert!(row.contains("never reported"), "{row}");
    rt.block_on(store.close());
}

#[test]
fn sqlite_platform_keeps_the_api_promises() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("platform.db");
    conformance(db.to_str().unwrap());
}

#[test]
fn postgres_platform_keeps_the_api_promises() {
    let pg = Postgres::start();
    conformance(&pg.url);
}

/// `serve --updates DIR`: the newest `hallkiosk-VERSION.raucb` is offered (version, size,
/// SHA-256) to a kiosk running an older version and not to one running it; its bytes are served
/// whole (200) and from a byte on (`Range: bytes=N-` → 206 with `Content-Range`); a range past the
/// end → 416, an unknown version → 404, a malformed `current` → 400 Problem, no token → 401.
/// Without `--updates` nothing is offered (204).
#[test]
fn update_bundles_are_offered_and_served_resumably() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("platform.db");
    let db = db.to_str().unwrap();
    admin(db, &["kiosk", "add", "A", "--token", TOKEN_A]);
    let updates = dir.path().join("updates");
    std::fs::create_dir(&updates).unwrap();
    let bundle: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(updates.join("hallkiosk-1795500000.raucb"), &bundle).unwrap();
    std::fs::write(updates.join("hallkiosk-1795400000.raucb"), b"older").unwrap();
    std::fs::write(updates.join("hallkiosk-latest.raucb"), b"not a version").unwrap();
    let p = PlatformProcess::start(bin(), db, &["--updates", updates.to_str().unwrap()]);
    let api = Api {
        client: Client::new(),
        url: p.url.clone(),
    };
    let (status, offer) = json(api.get(TOKEN_A, "/v1/update?current=1795400000"));
    assert_eq!(status, 200, "{offer}");
    let sha: String = sha2::Sha256::digest(&bundle)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(offer["version"], "1795500000");
    assert_eq!(offer["size"], bundle.len() as u64);
    assert_eq!(offer["sha256"], sha);
    for current in ["1795500000", "1795600000"] {
        let r = api.get(TOKEN_A, &format!("/v1/update?current={current}"));
        assert_eq!(r.status().as_u16(), 204, "{current}");
    }
    let (status, problem) = json(api.get(TOKEN_A, "/v1/update?current=abc"));
    assert_eq!(
        (status, &problem["error"]),
        (400, &Value::from("malformed_request"))
    );
    let r = api
        .client
        .get(format!("{}/v1/update?current=1", api.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let r = api.get(TOKEN_A, "/v1/update/1795500000");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert!(r.bytes().unwrap().as_ref() == bundle.as_slice());
    let from = |range: &str| {
        api.client
            .get(format!("{}/v1/update/1795500000", api.url))
            .bearer_auth(TOKEN_A)
            .header("Range", range)
            .send()
            .unwrap()
    };
    let r = from("bytes=123456-");
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 123456-{}/{}", bundle.len() - 1, bundle.len()).as_str()
    );
    assert!(r.bytes().unwrap().as_ref() == &bundle[123_456..]);
    let r = from(&format!("bytes={}-", bundle.len()));
    assert_eq!(r.status().as_u16(), 416);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{}", bundle.len()).as_str()
    );
    assert_eq!(
        api.get(TOKEN_A, "/v1/update/1795700000").status().as_u16(),
        404
    );
    assert_eq!(api.get(TOKEN_A, "/v1/update/latest").status().as_u16(), 404);
    drop(p);

    let p = PlatformProcess::start(bin(), db, &[]);
    let r = api
        .client
        .get(format!("{}/v1/update?current=1", p.url))
        .bearer_auth(TOKEN_A)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "no --updates: nothing offered");
}
