//! Durable enqueue benchmark (run: `scripts/bench-outbox`, which also runs the sqlite3 CLI peer).
//!
//! N submissions, each its own transaction with WAL + `synchronous=FULL` (one fsync per commit):
//! the submission row with its sealed payload (≈2.5 KB: six form fields and a 2 KB material) and,
//! by trigger, its outbox row. The peer runs the same INSERT against the same schema. Prints `outbox_commits_per_s <value>` and the sealed
//! payload size the peer must match.

use hallkiosk::outbox::crypto::PayloadKey;
use hallkiosk::outbox::{Material, NewSubmission, Outbox, Payload};
use std::time::Instant;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("outbox bench: run with `cargo bench` to measure");
        return;
    }
    let n: usize = std::env::var("OUTBOX_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = std::env::var_os("OUTBOX_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("hallkiosk-outbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let submission = NewSubmission {
        service_item: "resident-id-renewal".into(),
        consent_version: "2026-01".into(),
        payload: Payload {
            fields: (0..6)
                .map(|i| {
                    (
                        format!("field{i}"),
                        "北京市东城区政务服务测试路100号".to_string(),
                    )
                })
                .collect(),
            materials: vec![Material {
                name: "page-1.jpg".into(),
                mime: "image/jpeg".into(),
                bytes: vec![0x5A; 2048],
            }],
        },
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let key = PayloadKey::from_bytes(&[1; 32]);
        let binding = hallkiosk::outbox::crypto::Binding {
            idempotency_key: "x",
            kiosk_id: "K001",
            service_item: &submission.service_item,
            consent_version: &submission.consent_version,
            created_at_ms: 0,
            person_ref: None,
        };
        let sealed_len = key
            .seal(&binding, &submission.payload.to_bytes())
            .unwrap()
            .len();
        let outbox = Outbox::open(&dir.join("outbox.db"), key, "K001")
            .await
            .unwrap();
        outbox.enqueue(&submission, 0).await.unwrap(); // warm-up
        let t = Instant::now();
        for i in 0..n {
            outbox.enqueue(&submission, i as i64).await.unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        println!("hallkiosk outbox: {n} durable enqueues in {secs:.2} s");
        println!("sealed_payload_bytes {sealed_len}");
        println!("outbox_commits_per_s {:.1}", n as f64 / secs);
        outbox.close().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
