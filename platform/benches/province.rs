//! A province on one platform (issue 21, item 3): N kiosks, each with the traffic of a real kiosk's
//! sync daemon — a heartbeat, a status-changes pull and a catalog check (304) every 60 s — plus
//! submissions (one page of ~100 KiB each, one batch of one item, as the daemon sends them as they
//! come) and progress lookups, against `hallkiosk-platform serve` on a private PostgreSQL on
//! loopback. Open loop: every request has its time on a schedule fixed in advance (each kiosk at a
//! random phase), and its latency counts from that time, so a platform that falls behind is not
//! excused by the generator waiting for it (no coordinated omission).
//!
//! The peer, in the same run and under the same schedule: a trivial responder on the same stack
//! (axum on hyper and tokio, two worker threads, every route answering a fixed small body at once,
//! no database) — what the HTTP layer alone costs on this machine.
//!
//! `scripts/bench-platform` runs it; settings from the environment:
//! `PROVINCE_KIOSKS` (comma-separated kiosk counts, default 10000), `PROVINCE_SECS` (measured
//! seconds per count, default 60), `PROVINCE_WARMUP_SECS` (default 10), `PROVINCE_SUBMIT_MIN` and
//! `PROVINCE_LOOKUP_MIN` (minutes between one kiosk's submissions and lookups, default 10 each).

use hallkiosk_api::tracking::code;
use hallkiosk_platform::lab::{admin, PlatformProcess, Postgres};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Heartbeat,
    StatusChanges,
    Catalog,
    Submission,
    Lookup,
}

const KINDS: [Kind; 5] = [
    Kind::Heartbeat,
    Kind::StatusChanges,
    Kind::Catalog,
    Kind::Submission,
    Kind::Lookup,
];

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), so both targets get the same schedule.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Every request of the run: (offset from the start, kind, kiosk index), sorted by offset.
fn schedule(kiosks: usize, secs: f64, submit_min: f64, lookup_min: f64) -> Vec<(f64, Kind, usize)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut events = Vec::new();
    for k in 0..kiosks {
        // The daemon's three periodic requests, each at the kiosk's own phase.
        for kind in [Kind::Heartbeat, Kind::StatusChanges, Kind::Catalog] {
            let mut t = rng.unit() * 60.0;
            while t < secs {
                events.push((t, kind, k));
                t += 60.0;
            }
        }
        // Citizens: Poisson arrivals.
        for (kind, mean_min) in [(Kind::Submission, submit_min), (Kind::Lookup, lookup_min)] {
            let mut t = -(1.0 - rng.unit()).ln() * mean_min * 60.0;
            while t < secs {
                events.push((t, kind, k));
                t += -(1.0 - rng.unit()).ln() * mean_min * 60.0;
            }
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    events
}

fn kiosk_id(k: usize) -> String {
    format!("P{k:06}")
}

fn token(k: usize) -> String {
    format!("province-bench-token-{k:06}")
}

struct Outcome {
    kind: Kind,
    at: f64,
    latency_us: u64,
    ok: bool,
    status: u16,
}

struct Report {
    sent: usize,
    ok: usize,
    errors: Vec<(u16, usize)>,
    per_kind: Vec<(Kind, usize, u64, u64)>,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    throughput: f64,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Plays the schedule against `url`; the requests of the first `warmup` seconds are not counted.
fn play(url: &str, events: &[(f64, Kind, usize)], warmup: f64, catalog_version: &str) -> Report {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let page = "A".repeat(100 * 1024 / 3 * 4);
    let outcomes = Arc::new(Mutex::new(Vec::with_capacity(events.len())));
    let seq = Arc::new(AtomicU64::new(1));
    let end = events.last().map_or(0.0, |e| e.0);
    rt.block_on(async {
        let start = tokio::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for &(t, kind, k) in events {
            tokio::time::sleep_until(start + Duration::from_secs_f64(t)).await;
            let (client, outcomes, seq, page) =
                (client.clone(), outcomes.clone(), seq.clone(), page.clone());
            let url = url.to_string();
            let version = catalog_version.to_string();
            tasks.spawn(async move {
                let due = start + Duration::from_secs_f64(t);
                let auth = format!("Bearer {}", token(k));
                let req = match kind {
                    Kind::Heartbeat => client
                        .post(format!("{url}/v1/heartbeat"))
                        .header("Content-Type", "application/json")
                        .body(
                            serde_json::json!({
                                "software_version": "0.1.0", "outbox_depth": 0,
                                "oldest_unacknowledged_secs": null, "rejected": 0,
                                "last_error": null, "sent_at_ms": 1,
                                "devices": [{"device": "printer", "level": "ok", "detail": "", "since_ms": 1}]
                            })
                            .to_string(),
                        ),
                    Kind::StatusChanges => {
                        client.get(format!("{url}/v1/status-changes?after=0&limit=500"))
                    }
                    Kind::Catalog => client
                        .get(format!("{url}/v1/catalog"))
                        .header("If-None-Match", format!("\"{version}\"")),
                    Kind::Submission => {
                        let n = seq.fetch_add(1, Ordering::Relaxed);
                        let body = serde_json::json!({"items": [{
                            "idempotency_key": format!("province-{n}"),
                            "submission": {
                                "tracking_code": code(&kiosk_id(k), n),
                                "service_item": "resident-id-renewal",
                                "consent_version": "2026-01",
                                "created_at_ms": 1_790_000_000_000i64,
                                "fields": [{"name": "name", "value": "张三"}],
                                "materials": [{"name": "page-1.jpg", "mime": "image/jpeg", "data_base64": page}]
                            }
                        }]});
                        client
                            .post(format!("{url}/v1/submissions/batch"))
                            .header("Content-Type", "application/json")
                            .body(body.to_string())
                    }
                    Kind::Lookup => client.get(format!(
                        "{url}/v1/submissions/{}",
                        code(&kiosk_id(k), 1 + k as u64)
                    )),
                };
                let r = req.header("Authorization", auth).send().await;
                let (ok, status) = match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        (s < 300 || s == 304 || (kind == Kind::Lookup && s == 404), s)
                    }
                    Err(_) => (false, 0),
                };
                let latency_us = due.elapsed().as_micros() as u64;
                outcomes.lock().unwrap().push(Outcome {
                    kind,
                    at: t,
                    latency_us,
                    ok,
                    status,
                });
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    });
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let counted: Vec<&Outcome> = outcomes.iter().filter(|o| o.at >= warmup).collect();
    let mut all: Vec<u64> = counted.iter().map(|o| o.latency_us).collect();
    all.sort_unstable();
    let mut errors = std::collections::BTreeMap::new();
    for o in counted.iter().filter(|o| !o.ok) {
        *errors.entry(o.status).or_insert(0usize) += 1;
    }
    let per_kind = KINDS
        .iter()
        .map(|&kind| {
            let mut l: Vec<u64> = counted
                .iter()
                .filter(|o| o.kind == kind)
                .map(|o| o.latency_us)
                .collect();
            l.sort_unstable();
            (kind, l.len(), percentile(&l, 0.5), percentile(&l, 0.99))
        })
        .collect();
    let ok = counted.iter().filter(|o| o.ok).count();
    Report {
        sent: counted.len(),
        ok,
        errors: errors.into_iter().collect(),
        per_kind,
        p50_us: percentile(&all, 0.5),
        p99_us: percentile(&all, 0.99),
        max_us: all.last().copied().unwrap_or(0),
        throughput: ok as f64 / (end - warmup).max(1.0),
    }
}

fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

fn print(name: &str, kiosks: usize, r: &Report) {
    println!(
        "{name:<9} kiosks={kiosks:<6} sent={:<7} ok={:<7} throughput={:.0}/s p50={} p99={} max={} errors={:?}",
        r.sent,
        r.ok,
        r.throughput,
        ms(r.p50_us),
        ms(r.p99_us),
        ms(r.max_us),
        r.errors
    );
    for (kind, n, p50, p99) in &r.per_kind {
        println!(
            "          {kind:?}: n={n} p50={} p99={}",
            ms(*p50),
            ms(*p99)
        );
    }
}

/// The peer: every route answered at once with a small fixed body; two worker threads like the
/// platform's.
fn peer_serve() {
    use axum::routing::any;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = axum::Router::new().fallback(any(|| async {
            (
                [("content-type", "application/json")],
                "{\"changes\":[],\"next_after\":0}",
            )
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("listening on http://{}", listener.local_addr().unwrap());
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}

fn main() {
    if std::env::args().any(|a| a == "--peer-serve") {
        return peer_serve();
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let counts: Vec<usize> = std::env::var("PROVINCE_KIOSKS")
        .unwrap_or_else(|_| "10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let secs = env_num("PROVINCE_SECS", 60.0);
    let warmup = env_num("PROVINCE_WARMUP_SECS", 10.0);
    let submit_min = env_num("PROVINCE_SUBMIT_MIN", 10.0);
    let lookup_min = env_num("PROVINCE_LOOKUP_MIN", 10.0);
    let max = counts.iter().copied().max().unwrap_or(0);
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk-platform"));

    let pg = Postgres::start();
    // The province's kiosks, registered in one statement (kiosk add runs one process each).
    admin(&bin, &pg.url, &["kiosk", "list"]);
    let psql = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin/psql")))
        .find(|p| p.exists())
        .expect("psql");
    let out = std::process::Command::new(psql)
        .args([&pg.url, "-q", "-c"])
        .arg(format!(
            "INSERT INTO kiosks (kiosk_id, token_sha256, created_at_ms) \
             SELECT 'P' || lpad(i::text, 6, '0'), \
                    encode(sha256(('province-bench-token-' || lpad(i::text, 6, '0'))::bytea), 'hex'), 0 \
             FROM generate_series(0, {}) AS i",
            max.saturating_sub(1)
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/catalog/catalog.json");
    let published = admin(&bin, &pg.url, &["catalog", "publish", catalog]);
    let version = published
        .trim()
        .trim_start_matches("published catalog ")
        .to_string();

    let platform = PlatformProcess::start(&bin, &pg.url, &[]);
    let me = std::env::current_exe().unwrap();
    let mut peer = std::process::Command::new(me)
        .arg("--peer-serve")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let peer_url = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(peer.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().trim_start_matches("listening on ").to_string()
    };

    println!(
        "province: {secs} s measured after {warmup} s warm-up; per kiosk a heartbeat, a status pull and a \
         catalog check every 60 s, a submission every {submit_min} min and a lookup every {lookup_min} min \
         (Poisson); {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for &n in &counts {
        let events = schedule(n, warmup + secs, submit_min, lookup_min);
        println!("--- {n} kiosks: {} requests scheduled", events.len());
        let p = play(&platform.url, &events, warmup, &version);
        print("platform", n, &p);
        let q = play(&peer_url, &events, warmup, &version);
        print("peer", n, &q);
        println!(
            "ratio     p50 {:.2}x  p99 {:.2}x  (platform / trivial responder)  verdict: p99 {} 200 ms",
            p.p50_us as f64 / q.p50_us.max(1) as f64,
            p.p99_us as f64 / q.p99_us.max(1) as f64,
            if p.p99_us <= 200_000 && p.ok == p.sent {
                "≤"
            } else {
                ">"
            }
        );
    }
    let _ = peer.kill();
    let _ = peer.wait();
    drop(platform);
    drop(pg);
}
