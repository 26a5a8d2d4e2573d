//! Drain benchmark (run: `scripts/bench-drain`): N queued submissions delivered by the sync daemon's
//! loop (`sync::run`, Mode::Once: claim, open, POST a batch, record the verdicts) into a real
//! `hallkiosk-platform` process over loopback, against the peer: **curl** POSTing the same number of
//! already-serialised batches of the same size to a fresh platform in one process (keep-alive,
//! `--next`), i.e. the platform's own ingest rate with no kiosk-side work.
//!
//! Prints `drain_ours_per_s`, `drain_curl_per_s` and their ratio, for SQLite and (with
//! `DRAIN_POSTGRES=1`) PostgreSQL platforms.

use hallkiosk::outbox::{self, crypto::PayloadKey, Outbox};
use hallkiosk::sync::{self, adapter::HttpAdapter, Backoff, Mode, Settings};
use hallkiosk_api::{Batch, BatchItem};
use hallkiosk_platform::lab::{admin, PlatformProcess, Postgres};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const TOKEN: &str = "drain-bench-token-0123456789";

fn platform_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("hallkiosk-platform");
    assert!(
        bin.exists(),
        "build it first: cargo build --release -p hallkiosk-platform"
    );
    bin
}

fn ours(db: &str, dir: &Path, n: u64, batch: i64) -> f64 {
    admin(
        &platform_bin(),
        db,
        &["kiosk", "add", "K-OURS", "--token", TOKEN],
    );
    let platform = PlatformProcess::start(&platform_bin(), db, &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ob = Outbox::open(
            &dir.join("outbox.db"),
            PayloadKey::from_bytes(&[3; 32]),
            "K-OURS",
        )
        .await
        .unwrap();
        for i in 0..n {
            ob.enqueue(
                &outbox::test_submission(i, 2048),
                hallkiosk::shared::clock::now_ms(),
            )
            .await
            .unwrap();
        }
        let adapter = HttpAdapter::new(&sync::adapter::HttpSettings {
            base_url: platform.url.clone(),
            token: TOKEN.into(),
            timeout: Duration::from_secs(30),
            ca_file: None,
            client_identity: None,
            max_response_bytes: 16 << 20,
        })
        .unwrap();
        let settings = Settings {
            batch_size: batch,
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(1),
            },
            heartbeat_every: Duration::from_secs(60),
            pull_every: Duration::from_secs(60),
            poll_every: Duration::from_secs(1),
            data_dir: dir.to_path_buf(),
            retention: Default::default(),
        };
        let t = Instant::now();
        let waiting = sync::run(&ob, &adapter, &settings, Mode::Once)
            .await
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(waiting, 0);
        assert_eq!(
            ob.stats(hallkiosk::shared::clock::now_ms())
                .await
                .unwrap()
                .accepted,
            n as i64
        );
        ob.close().await;
        n as f64 / secs
    })
}

fn curl_peer(db: &str, dir: &Path, n: u64, batch: u64) -> f64 {
    admin(
        &platform_bin(),
        db,
        &["kiosk", "add", "K-PEER", "--token", TOKEN],
    );
    let platform = PlatformProcess::start(&platform_bin(), db, &[]);
    let mut args: Vec<String> = Vec::new();
    let mut i = 0;
    let mut file_no = 0;
    while i < n {
        let items = (i..(i + batch).min(n))
            .map(|k| {
                let s = outbox::test_submission(k, 2048);
                BatchItem {
                    idempotency_key: format!("peer-{k}"),
                    submission: sync::adapter::submission_to_wire(
                        &hallkiosk_api::tracking::code("K-PEER", k + 1),
                        &s.service_item,
                        &s.consent_version,
                        0,
                        &s.payload,
                    ),
                }
            })
            .collect();
        let file = dir.join(format!("batch-{file_no}.json"));
        std::fs::write(&file, serde_json::to_vec(&Batch { items }).unwrap()).unwrap();
        if file_no > 0 {
            args.push("--next".into());
        }
        args.extend([
            "-sS".into(),
            "-o".into(),
            "/dev/null".into(),
            "-H".into(),
            format!("Authorization: Bearer {TOKEN}"),
            "-H".into(),
            "Content-Type: application/json".into(),
            "--data-binary".into(),
            format!("@{}", file.display()),
            format!("{}/v1/submissions/batch", platform.url),
        ]);
        file_no += 1;
        i += batch;
    }
    let t = Instant::now();
    let ok = Command::new("curl").args(&args).status().unwrap().success();
    let secs = t.elapsed().as_secs_f64();
    assert!(ok, "curl failed");
    let stored = admin(&platform_bin(), db, &["submissions", "--kiosk", "K-PEER"])
        .lines()
        .count();
    assert_eq!(stored as u64, n, "the peer's submissions all stored");
    n as f64 / secs
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("drain bench: run with `cargo bench` (scripts/bench-drain)");
        return;
    }
    let n: u64 = std::env::var("DRAIN_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let batch: u64 = std::env::var("DRAIN_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let base = std::env::var_os("DRAIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::tempdir_in(base).unwrap();
    let run = |label: &str, ours_db: &str, peer_db: &str| {
        let d1 = tmp.path().join(format!("{label}-ours"));
        let d2 = tmp.path().join(format!("{label}-peer"));
        std::fs::create_dir_all(&d1).unwrap();
        std::fs::create_dir_all(&d2).unwrap();
        let a = ours(ours_db, &d1, n, batch as i64);
        let b = curl_peer(peer_db, &d2, n, batch);
        println!(
            "{label}: hallkiosk sync {a:.0}/s, curl {b:.0}/s, ratio {:.3} (N={n}, batch {batch})",
            a / b
        );
        println!("drain_{label}_ours_per_s {a:.1}");
        println!("drain_{label}_curl_per_s {b:.1}");
    };
    let p1 = tmp.path().join("ours-platform.db");
    let p2 = tmp.path().join("peer-platform.db");
    run("sqlite", p1.to_str().unwrap(), p2.to_str().unwrap());
    if std::env::var("DRAIN_POSTGRES").as_deref() == Ok("1") {
        let pg1 = Postgres::start();
        let pg2 = Postgres::start();
        run("postgres", &pg1.url, &pg2.url);
    }
}
