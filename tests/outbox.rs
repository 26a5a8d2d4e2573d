//! The outbox on a real SQLite file: durable enqueue, sealed payloads (no personal bytes in the
//! db, -wal or -shm files), states, crash recovery with the same key, unique tracking codes.

use hallkiosk::outbox::crypto::PayloadKey;
use hallkiosk::outbox::{tracking, Material, NewSubmission, Outbox, OutboxError, Payload};
use std::path::Path;

const MARKER: &str = "MARKER-张小三-1c9e";
const ID_NUMBER: &str = "11010119900307901X";

fn submission(i: usize) -> NewSubmission {
    NewSubmission {
        service_item: "resident-id-renewal".into(),
        consent_version: "2026-01".into(),
        payload: Payload {
            fields: vec![
                ("name".into(), format!("{MARKER}-{i}")),
                ("id_number".into(), ID_NUMBER.into()),
                ("address".into(), "北京市东城区政务服务测试路100号".into()),
            ],
            materials: vec![Material {
                name: "id-front.jpg".into(),
                mime: "image/jpeg".into(),
                bytes: format!("JPEG{MARKER}JPEG").repeat(200).into_bytes(),
            }],
        },
    }
}

async fn open(dir: &Path) -> Outbox {
    let key = PayloadKey::load_or_create(&dir.join("outbox.key")).unwrap();
    Outbox::open(&dir.join("outbox.db"), key, "K001")
        .await
        .unwrap()
}

/// Occurrences of `needle` in the database and its -wal and -shm files.
fn scan(dir: &Path, needle: &[u8]) -> usize {
    ["outbox.db", "outbox.db-wal", "outbox.db-shm"]
        .iter()
        .filter_map(|f| std::fs::read(dir.join(f)).ok())
        .map(|bytes| bytes.windows(needle.len()).filter(|w| *w == needle).count())
        .sum()
}

#[tokio::test]
async fn an_entry_goes_queued_sending_accepted_and_loses_its_payload() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    let e = outbox.enqueue(&submission(1), 1_000).await.unwrap();
    assert!(tracking::is_valid(&e.tracking_code), "{}", e.tracking_code);
    assert!(e.tracking_code.starts_with("K001-000001-"));
    assert_eq!(
        uuid::Uuid::parse_str(&e.idempotency_key)
            .unwrap()
            .get_version_num(),
        4
    );
    let s = outbox.stats(61_000).await.unwrap();
    assert_eq!(
        (s.queued, s.depth(), s.oldest_unacknowledged_secs),
        (1, 1, Some(60))
    );

    let claimed = outbox.claim_due(10, 2_000).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].idempotency_key, e.idempotency_key);
    assert_eq!(
        claimed[0].payload,
        submission(1).payload,
        "payload round trip"
    );
    assert_eq!(claimed[0].attempts, 1);
    assert!(
        outbox.claim_due(10, 2_000).await.unwrap().is_empty(),
        "sending is not due"
    );

    outbox
        .accepted(&e.idempotency_key, "received", 3_000)
        .await
        .unwrap();
    let s = outbox.stats(3_000).await.unwrap();
    assert_eq!(
        (s.accepted, s.depth(), s.oldest_unacknowledged_secs),
        (1, 0, None)
    );
    let list = outbox.list(10).await.unwrap();
    assert_eq!(list[0].state, "accepted");
    assert!(!list[0].payload_present, "purged after acceptance");
    assert_eq!(
        list[0].tracking_code, e.tracking_code,
        "receipt record kept"
    );
    assert_eq!(outbox.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn no_personal_bytes_reach_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    for i in 0..20 {
        outbox
            .enqueue(&submission(i), 1_000 + i as i64)
            .await
            .unwrap();
    }
    // The WAL holds the new pages now; the scan covers it and the main file.
    assert!(dir.path().join("outbox.db-wal").exists());
    for needle in [
        MARKER.as_bytes(),
        ID_NUMBER.as_bytes(),
        "测试路100号".as_bytes(),
    ] {
        assert_eq!(
            scan(dir.path(), needle),
            0,
            "{}",
            String::from_utf8_lossy(needle)
        );
    }
    // Taking, accepting and purging leaves none either.
    for c in outbox.claim_due(100, 5_000).await.unwrap() {
        outbox
            .accepted(&c.idempotency_key, "received", 6_000)
            .await
            .unwrap();
    }
    outbox.close().await;
    assert_eq!(scan(dir.path(), MARKER.as_bytes()), 0);
    assert_eq!(scan(dir.path(), ID_NUMBER.as_bytes()), 0);
    // The scan itself can fail: the same check finds a marker that is really there.
    std::fs::write(dir.path().join("outbox.db-shm"), MARKER).unwrap();
    assert_eq!(scan(dir.path(), MARKER.as_bytes()), 1);
}

#[tokio::test]
async fn a_crash_while_sending_is_retried_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = {
        let outbox = open(dir.path()).await;
        let e = outbox.enqueue(&submission(7), 1_000).await.unwrap();
        let claimed = outbox.claim_due(1, 2_000).await.unwrap();
        assert_eq!(claimed.len(), 1);
        e.idempotency_key
        // Dropped here without a result: as if the sync daemon was killed mid-request.
    };
    let outbox = open(dir.path()).await;
    assert_eq!(outbox.stats(3_000).await.unwrap().sending, 1);
    assert_eq!(outbox.recover_stuck(3_000).await.unwrap(), 1);
    let again = outbox.claim_due(1, 3_000).await.unwrap();
    assert_eq!(again[0].idempotency_key, key);
    assert_eq!(again[0].attempts, 2);
}

#[tokio::test]
async fn transient_failures_wait_and_rejections_stop() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    let a = outbox.enqueue(&submission(1), 1_000).await.unwrap();
    let b = outbox.enqueue(&submission(2), 1_000).await.unwrap();
    outbox.claim_due(10, 1_000).await.unwrap();
    outbox
        .retry_later(&a.idempotency_key, "HTTP 503", 10_000, 1_500)
        .await
        .unwrap();
    outbox
        .rejected(&b.idempotency_key, "service item withdrawn", 1_500)
        .await
        .unwrap();
    assert!(
        outbox.claim_due(10, 9_999).await.unwrap().is_empty(),
        "not due yet"
    );
    let due = outbox.claim_due(10, 10_000).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].idempotency_key, a.idempotency_key);
    let list = outbox.list(10).await.unwrap();
    let rejected = list.iter().find(|e| e.state == "rejected").unwrap();
    assert_eq!(
        rejected.reject_reason.as_deref(),
        Some("service item withdrawn")
    );
    assert!(
        rejected.payload_present,
        "a rejected entry is never silently deleted"
    );
    assert!(matches!(
        outbox.accepted("no-such-key", "x", 1).await,
        Err(OutboxError::Unknown(_))
    ));
}

#[tokio::test]
async fn two_writers_on_one_file_get_unique_tracking_codes() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path()).await;
    let b = open(dir.path()).await;
    let (ra, rb) = tokio::join!(
        async {
            let mut v = Vec::new();
            for i in 0..40 {
                v.push(a.enqueue(&submission(i), 1).await.unwrap().tracking_code);
            }
            v
        },
        async {
            let mut v = Vec::new();
            for i in 0..40 {
                v.push(b.enqueue(&submission(i), 1).await.unwrap().tracking_code);
            }
            v
        }
    );
    let mut all: Vec<String> = ra.into_iter().chain(rb).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 80);
    assert!(all.iter().all(|c| tracking::is_valid(c)));
}

#[tokio::test]
async fn a_wrong_key_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    outbox.enqueue(&submission(1), 1_000).await.unwrap();
    outbox.close().await;
    let wrong = Outbox::open(
        &dir.path().join("outbox.db"),
        PayloadKey::from_bytes(&[9; 32]),
        "K001",
    )
    .await
    .unwrap();
    let err = wrong.claim_due(1, 2_000).await.unwrap_err();
    assert!(err.to_string().contains("failed authentication"), "{err}");
    assert_eq!(
        wrong.stats(2_000).await.unwrap().queued,
        1,
        "the entry stays queued"
    );
}

#[tokio::test]
async fn the_cli_shows_counts_and_entries_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "[kiosk]\nid = \"K001\"\n[storage]\ndata_dir = \"{}\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let outbox = open(dir.path()).await;
    let e = outbox
        .enqueue(&submission(3), hallkiosk::shared::clock::now_ms())
        .await
        .unwrap();
    outbox.close().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    };
    let stats = run(&["outbox", "stats", "--json"]);
    assert!(
        stats.status.success(),
        "{}",
        String::from_utf8_lossy(&stats.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(v["queued"], 1);
    assert_eq!(v["depth"], 1);
    assert_eq!(v["age_alarm"], false);
    let list = run(&["outbox", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains(&e.tracking_code) && text.contains("queued"),
        "{text}"
    );
    assert!(!text.contains(MARKER) && !text.contains(ID_NUMBER));
}

#[tokio::test]
async fn progress_by_code_and_by_card_survives_the_purge_without_the_id_number() {
    use hallkiosk::outbox::{Outcome, ProgressQuery};
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    let a = outbox.enqueue(&submission(1), 1_000).await.unwrap();
    let mut other = submission(2);
    other.payload.fields[1].1 = "110101199003079016".into();
    let b = outbox.enqueue(&other, 2_000).await.unwrap();
    let c = outbox.enqueue(&submission(3), 3_000).await.unwrap();
    // By card: this person's two, newest first; not the other person's.
    let mine = outbox
        .progress(&ProgressQuery::Person(ID_NUMBER))
        .await
        .unwrap();
    let codes: Vec<&str> = mine.iter().map(|p| p.tracking_code.as_str()).collect();
    assert_eq!(codes, [c.tracking_code.as_str(), a.tracking_code.as_str()]);
    assert!(mine.iter().all(|p| p.state == "queued"));
    // The card's number is compared case-insensitively (a trailing x).
    let lower = ID_NUMBER.to_lowercase();
    assert_eq!(
        outbox
            .progress(&ProgressQuery::Person(&lower))
            .await
            .unwrap()
            .len(),
        2
    );
    // By receipt: exactly that one; a mistyped or foreign code finds nothing.
    let one = outbox
        .progress(&ProgressQuery::Code(&b.tracking_code))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].service_item, "resident-id-renewal");
    let mut bad = b.tracking_code.clone();
    bad.pop();
    bad.push(if b.tracking_code.ends_with('0') {
        '1'
    } else {
        '0'
    });
    assert!(outbox
        .progress(&ProgressQuery::Code(&bad))
        .await
        .unwrap()
        .is_empty());
    let foreign = tracking::code("K999", 2);
    assert!(outbox
        .progress(&ProgressQuery::Code(&foreign))
        .await
        .unwrap()
        .is_empty());
    // Accepted and purged: still found by card, with the platform's state, and the ID number is
    // nowhere in the files.
    let claimed = outbox.claim_due(10, 10_000).await.unwrap();
    let outcomes: Vec<_> = claimed
        .iter()
        .map(|c| {
            (
                c.idempotency_key.clone(),
                Outcome::Accepted {
                    platform_state: "received".into(),
                },
            )
        })
        .collect();
    outbox.record_outcomes(&outcomes, 11_000).await.unwrap();
    let mine = outbox
        .progress(&ProgressQuery::Person(ID_NUMBER))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine
        .iter()
        .all(|p| p.state == "accepted" && p.platform_state.as_deref() == Some("received")));
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(outbox.pool())
        .await
        .unwrap();
    outbox.close().await;
    assert_eq!(scan(dir.path(), ID_NUMBER.as_bytes()), 0);
}

#[tokio::test]
async fn local_ticket_numbers_count_per_day_and_category() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    assert_eq!(
        outbox.next_local_ticket("2026-11-23", "A").await.unwrap(),
        1
    );
    assert_eq!(
        outbox.next_local_ticket("2026-11-23", "A").await.unwrap(),
        2
    );
    assert_eq!(
        outbox.next_local_ticket("2026-11-23", "B").await.unwrap(),
        1
    );
    assert_eq!(
        outbox.next_local_ticket("2026-11-24", "A").await.unwrap(),
        1
    );
    outbox.close().await;
    // The sequence survives a restart.
    let outbox = open(dir.path()).await;
    assert_eq!(
        outbox.next_local_ticket("2026-11-23", "A").await.unwrap(),
        3
    );
}

#[tokio::test]
async fn ratings_wait_until_delivered() {
    use hallkiosk::outbox::NewRating;
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    let r = NewRating {
        service_item: Some("P-TAX-001".into()),
        tracking_code: None,
        level: 2,
        reason: Some("long_wait".into()),
    };
    let k1 = outbox.add_rating(&r, 1).await.unwrap();
    let k2 = outbox
        .add_rating(
            &NewRating {
                level: 5,
                reason: None,
                ..r.clone()
            },
            2,
        )
        .await
        .unwrap();
    let unsent = outbox.unsent_ratings(10).await.unwrap();
    assert_eq!(unsent.len(), 2);
    assert_eq!(unsent[0].idempotency_key, k1);
    assert_eq!(unsent[0].rating, r);
    outbox
        .ratings_sent(std::slice::from_ref(&k1), 3)
        .await
        .unwrap();
    let unsent = outbox.unsent_ratings(10).await.unwrap();
    assert_eq!(unsent.len(), 1);
    assert_eq!(unsent[0].idempotency_key, k2);
    assert_eq!(outbox.unsent_rating_count().await.unwrap(), 1);
}
