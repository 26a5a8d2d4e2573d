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
async fn a_wrong_key_quarantines_with_the_reason_loses_nothing_and_release_requeues() {
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
    let claim = wrong.claim(10, 2_000).await.unwrap();
    assert!(claim.entries.is_empty());
    assert_eq!(claim.quarantined, 1);
    let s = wrong.stats(2_000).await.unwrap();
    assert_eq!((s.queued, s.quarantined), (0, 1));
    let info = &wrong.list(1).await.unwrap()[0];
    assert_eq!(info.state, "quarantined");
    assert!(info.payload_present, "kept");
    let reason = info.quarantine_reason.as_deref().unwrap();
    assert!(reason.contains("does not have"), "{reason}");
    assert!(!reason.contains(MARKER) && !reason.contains(ID_NUMBER));
    // Never claimed again while quarantined.
    assert!(wrong.claim_due(10, 3_000).await.unwrap().is_empty());
    wrong.close().await;
    // The right key restored: released, it opens and goes.
    let right = open(dir.path()).await;
    assert_eq!(right.release_quarantined(4_000).await.unwrap(), 1);
    let claimed = right.claim_due(10, 4_000).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].payload, submission(1).payload);
}

#[tokio::test]
async fn a_changed_row_field_makes_its_payload_unopenable() {
    // Issue 21: the associated data was the idempotency key only, so kiosk id, service item,
    // consent version, time and person reference could be edited in the database undetected.
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    let edits = [
        "UPDATE submissions SET kiosk_id = 'K002' WHERE id = 1",
        "UPDATE submissions SET service_item = 'other-item' WHERE id = 2",
        "UPDATE submissions SET consent_version = '2020-01' WHERE id = 3",
        "UPDATE submissions SET created_at_ms = created_at_ms + 1 WHERE id = 4",
        "UPDATE submissions SET person_ref = 'someone-else' WHERE id = 5",
        "UPDATE submissions SET idempotency_key = 'another-key' WHERE id = 6",
    ];
    for i in 0..=edits.len() {
        outbox
            .enqueue(&submission(i), 1_000 + i as i64)
            .await
            .unwrap();
    }
    for sql in edits {
        sqlx::query(sql).execute(outbox.pool()).await.unwrap();
    }
    let claim = outbox.claim(50, 10_000).await.unwrap();
    assert_eq!(claim.quarantined, edits.len());
    assert_eq!(claim.entries.len(), 1, "the untouched row still goes");
    assert_eq!(claim.entries[0].payload, submission(edits.len()).payload);
}

#[tokio::test]
async fn rows_sealed_before_the_migration_are_sealed_again_bound_to_their_row() {
    // A database at schema 4 (before quarantine and sealed format 1), with a format-0 payload.
    let dir = tempfile::tempdir().unwrap();
    let old_migrations = dir.path().join("migrations");
    std::fs::create_dir(&old_migrations).unwrap();
    for f in std::fs::read_dir("migrations").unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        if name.as_str() < "0005" {
            std::fs::copy(&f, old_migrations.join(&name)).unwrap();
        }
    }
    let db = dir.path().join("outbox.db");
    let key = PayloadKey::load_or_create(&dir.path().join("outbox.key")).unwrap();
    let payload = submission(1).payload.to_bytes();
    {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .connect_with(
                sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&db)
                    .create_if_missing(true),
            )
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(old_migrations.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        for (id, state) in [(1, "queued"), (2, "rejected"), (3, "queued")] {
            let idem = format!("key-{id}");
            let mut sealed = key.seal_format0(idem.as_bytes(), &payload);
            if id == 3 {
                let n = sealed.len();
                sealed[n - 1] ^= 1; // damaged before the upgrade
            }
            sqlx::query(
                "INSERT INTO submissions (idempotency_key, service_item, kiosk_id, consent_version,
                                          created_at_ms, payload)
                 VALUES (?, 'resident-id-renewal', 'K001', '2026-01', ?, ?)",
            )
            .bind(&idem)
            .bind(1_000 * id)
            .bind(&sealed)
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query("UPDATE outbox SET state = ?, reject_reason = 'x' WHERE submission_id = ?")
                .bind(state)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    // Opening with this version migrates the table (states kept) and seals format-0 payloads again.
    let outbox = open(dir.path()).await;
    let formats: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT sealed_format, payload FROM submissions ORDER BY id")
            .fetch_all(outbox.pool())
            .await
            .unwrap();
    assert_eq!(formats[0].0, 1);
    assert_eq!(formats[0].1[0], 1, "format byte");
    assert_eq!(formats[1].0, 1);
    assert_eq!(formats[2].0, 0, "a damaged one stays as it was");
    let s = outbox.stats(5_000).await.unwrap();
    assert_eq!((s.queued, s.rejected), (2, 1));
    let claim = outbox.claim(10, 5_000).await.unwrap();
    assert_eq!(claim.entries.len(), 1);
    assert_eq!(claim.entries[0].idempotency_key, "key-1");
    assert_eq!(claim.entries[0].payload, submission(1).payload);
    assert_eq!(claim.quarantined, 1);
    // The resealed one is bound to its row now.
    sqlx::query("UPDATE submissions SET service_item = 'x' WHERE id = 2")
        .execute(outbox.pool())
        .await
        .unwrap();
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT payload FROM submissions WHERE id = 2")
        .fetch_one(outbox.pool())
        .await
        .unwrap();
    assert!(outbox
        .keyring()
        .open(
            &hallkiosk::outbox::crypto::Binding {
                idempotency_key: "key-2",
                kiosk_id: "K001",
                service_item: "x",
                consent_version: "2026-01",
                created_at_ms: 2_000,
                person_ref: None,
            },
            &sealed
        )
        .is_err());
    // New entries keep coming after the migration (the trigger is back).
    outbox.enqueue(&submission(9), 9_000).await.unwrap();
    assert_eq!(outbox.stats(9_000).await.unwrap().queued, 1);
}

#[tokio::test]
async fn a_rotated_key_seals_new_entries_and_the_old_one_still_opens_old_ones() {
    use hallkiosk::outbox::crypto::Keyring;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.db");
    let old = Outbox::open(&db, PayloadKey::from_bytes(&[1; 32]), "K001")
        .await
        .unwrap();
    let a = old.enqueue(&submission(1), 1_000).await.unwrap();
    old.close().await;
    let ring = Keyring::new(
        PayloadKey::from_bytes(&[2; 32]),
        vec![PayloadKey::from_bytes(&[1; 32])],
    );
    let outbox = Outbox::open(&db, ring, "K001").await.unwrap();
    let b = outbox.enqueue(&submission(2), 2_000).await.unwrap();
    let by_key = outbox.payloads_by_key().await.unwrap();
    assert_eq!(by_key.len(), 2, "{by_key:?}");
    let claimed = outbox.claim_due(10, 3_000).await.unwrap();
    let keys: Vec<&str> = claimed.iter().map(|c| c.idempotency_key.as_str()).collect();
    assert_eq!(
        keys,
        [a.idempotency_key.as_str(), b.idempotency_key.as_str()]
    );
    // Progress by card finds entries under either key's person reference.
    use hallkiosk::outbox::ProgressQuery;
    let mine = outbox
        .progress(&ProgressQuery::Person(ID_NUMBER))
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
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

#[tokio::test]
async fn retention_leaves_nothing_past_its_end_date_and_keeps_what_is_unacknowledged() {
    use hallkiosk::outbox::retention::{purge_all, PRINT_LEDGER, RECEIPTS_DIR};
    use hallkiosk::outbox::{NewRating, Outcome, ProgressQuery};
    use hallkiosk_drivers::printer::job::{FileLedger, JobLedger, JobState};
    const DAY: i64 = 24 * 3600 * 1000;
    // The injected clock: a fixed day 0, then days later.
    let t0: i64 = 1_800_000_000_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let outbox = open(data).await;
    let r = hallkiosk::shared::config::Config::default().retention;
    // a: accepted, completed on day 1; b: rejected on day 0; c: accepted, still in review;
    // d: never acknowledged; e: quarantined.
    let [a, b, c, d, e] = [1, 2, 3, 4, 5].map(|i| (i, submission(i)));
    let mut keys = Vec::new();
    for (i, s) in [&a, &b, &c, &d, &e] {
        keys.push(
            outbox
                .enqueue(s, t0 + *i as i64)
                .await
                .unwrap()
                .idempotency_key,
        );
    }
    sqlx::query("UPDATE submissions SET payload = substr(payload, 1, 30) WHERE id = 5")
        .execute(outbox.pool())
        .await
        .unwrap();
    let claim = outbox.claim(3, t0 + 10).await.unwrap();
    assert_eq!(claim.entries.len(), 3);
    let accepted = |state: &str| Outcome::Accepted {
        platform_state: state.into(),
    };
    outbox
        .record_outcomes(
            &[
                (keys[0].clone(), accepted("received")),
                (
                    keys[1].clone(),
                    Outcome::Rejected {
                        reason: "HTTP 422".into(),
                    },
                ),
                (keys[2].clone(), accepted("received")),
            ],
            t0 + 20,
        )
        .await
        .unwrap();
    assert_eq!(outbox.claim(10, t0 + 30).await.unwrap().quarantined, 1);
    outbox
        .set_platform_state_at(&keys[0], "completed", t0 + DAY)
        .await
        .unwrap();
    outbox
        .set_platform_state_at(&keys[2], "in_review", t0 + DAY)
        .await
        .unwrap();
    let rating = NewRating {
        service_item: None,
        tracking_code: None,
        level: 5,
        reason: None,
    };
    let sent = outbox.add_rating(&rating, t0).await.unwrap();
    outbox.ratings_sent(&[sent], t0 + 100).await.unwrap();
    outbox.add_rating(&rating, t0 + 200).await.unwrap();
    // A receipt image and a print-ledger line from day 0.
    let receipts = data.join(RECEIPTS_DIR);
    std::fs::create_dir_all(&receipts).unwrap();
    let png = receipts.join("receipt-1.png");
    std::fs::write(&png, b"png").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&png)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_millis(t0 as u64))
        .unwrap();
    {
        let mut ledger = FileLedger::open_at(&data.join(PRINT_LEDGER), None, t0).unwrap();
        ledger
            .set_at("K001-000001-X", JobState::Printed, t0)
            .unwrap();
        assert!(ledger.get("K001-000001-X").is_some());
    }
    let person_refs = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM submissions WHERE person_ref IS NOT NULL ORDER BY id",
        )
        .fetch_all(outbox.pool())
        .await
        .unwrap()
    };
    let payloads = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM submissions WHERE payload IS NOT NULL ORDER BY id",
        )
        .fetch_all(outbox.pool())
        .await
        .unwrap()
    };
    assert_eq!(person_refs().await, [1, 2, 3, 4, 5]);
    assert_eq!(payloads().await, [2, 4, 5]);

    // Day 3: nothing is due yet.
    let p = purge_all(&outbox, data, &r, t0 + 3 * DAY, false)
        .await
        .unwrap();
    assert_eq!(p.total(), 0, "{p:?}");
    // Day 40, dry run: counted, nothing changed.
    let now = t0 + 40 * DAY;
    let dry = purge_all(&outbox, data, &r, now, true).await.unwrap();
    assert_eq!(
        (
            dry.rejected_payloads,
            dry.person_refs,
            dry.ratings,
            dry.receipt_images,
            dry.ledger_jobs
        ),
        (1, 2, 1, 1, Some(1)),
        "{dry:?}"
    );
    assert_eq!(person_refs().await, [1, 2, 3, 4, 5]);
    assert!(png.exists());
    // Day 40: gone.
    let p = purge_all(&outbox, data, &r, now, false).await.unwrap();
    assert_eq!(p, dry);
    assert_eq!(payloads().await, [4, 5], "the unacknowledged are kept");
    assert_eq!(
        person_refs().await,
        [3, 4, 5],
        "only not-final and unacknowledged entries keep the reference"
    );
    assert!(!png.exists());
    assert_eq!(
        std::fs::read_to_string(data.join(PRINT_LEDGER)).unwrap(),
        ""
    );
    let ratings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ratings")
        .fetch_one(outbox.pool())
        .await
        .unwrap();
    assert_eq!(ratings, 1, "the unsent rating stays");
    // The receipt record stays: by code still, by card no longer for a's completed submission.
    let code_a = tracking::code("K001", 1);
    assert_eq!(
        outbox
            .progress(&ProgressQuery::Code(&code_a))
            .await
            .unwrap()[0]
            .platform_state
            .as_deref(),
        Some("completed")
    );
    let by_card: Vec<String> = outbox
        .progress(&ProgressQuery::Person(ID_NUMBER))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.tracking_code)
        .collect();
    assert!(
        !by_card.contains(&code_a) && by_card.len() == 3,
        "{by_card:?}"
    );
    // The entry left waiting still opens (its person reference was not touched) and can go.
    assert_eq!(outbox.recover_stuck(now).await.unwrap(), 1);
    let left = outbox.claim(10, now).await.unwrap();
    assert_eq!((left.entries.len(), left.quarantined), (1, 0));
    // A second purge finds nothing more.
    assert_eq!(
        purge_all(&outbox, data, &r, now, false)
            .await
            .unwrap()
            .total(),
        0
    );
    // A year on, even the reference of c (its state never became final) is gone; what the platform
    // has not acknowledged still keeps its reference (bound into its payload).
    let p = purge_all(&outbox, data, &r, t0 + 366 * DAY, false)
        .await
        .unwrap();
    assert_eq!(p.person_refs, 1, "{p:?}");
    assert_eq!(person_refs().await, [4, 5]);
}

#[tokio::test]
async fn the_cli_rotates_the_key_and_prunes_it_once_no_entry_needs_it() {
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
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["outbox", "test-submit", "--count", "2"]);
    let rotated = run(&["outbox", "rotate-key"]);
    assert!(rotated.contains("kept in"), "{rotated}");
    run(&["outbox", "test-submit", "--count", "1"]);
    let keys = run(&["outbox", "keys"]);
    assert!(
        keys.contains("current") && keys.contains("1 payloads"),
        "{keys}"
    );
    assert!(
        keys.contains("retired") && keys.contains("2 payloads"),
        "{keys}"
    );
    // Every entry opens: the old ones with the retired key, the new one with the new key.
    let ring = hallkiosk::outbox::crypto::Keyring::load(&dir.path().join("outbox.key")).unwrap();
    let outbox = Outbox::open(&dir.path().join("outbox.db"), ring, "K001")
        .await
        .unwrap();
    assert_eq!(outbox.keyring().retired().len(), 1);
    let claimed = outbox.claim(10, i64::MAX / 2).await.unwrap();
    assert_eq!((claimed.entries.len(), claimed.quarantined), (3, 0));
    let accepted: Vec<(String, hallkiosk::outbox::Outcome)> = claimed
        .entries
        .iter()
        .map(|c| {
            (
                c.idempotency_key.clone(),
                hallkiosk::outbox::Outcome::Accepted {
                    platform_state: "received".into(),
                },
            )
        })
        .collect();
    outbox.record_outcomes(&accepted, 10).await.unwrap();
    outbox.close().await;
    // Nothing is sealed under the retired key any more: pruned.
    let pruned = run(&["outbox", "keys", "--prune"]);
    assert!(pruned.contains("removed"), "{pruned}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("outbox-keys"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn a_payload_that_opens_but_does_not_parse_is_quarantined_without_quoting_it() {
    use hallkiosk::outbox::crypto::{Binding, Keyring};
    let dir = tempfile::tempdir().unwrap();
    let outbox = open(dir.path()).await;
    let e = outbox.enqueue(&submission(1), 1_000).await.unwrap();
    // Sealed correctly for its row, but the header's fields are a string holding personal text.
    let header = format!(r#"{{"fields":"{MARKER} {ID_NUMBER}","materials":[]}}"#);
    let mut plain = (header.len() as u32).to_le_bytes().to_vec();
    plain.extend_from_slice(header.as_bytes());
    let ring = Keyring::from(PayloadKey::load_or_create(&dir.path().join("outbox.key")).unwrap());
    let person = ring.person_ref(ID_NUMBER);
    let sealed = ring
        .seal(
            &Binding {
                idempotency_key: &e.idempotency_key,
                kiosk_id: "K001",
                service_item: "resident-id-renewal",
                consent_version: "2026-01",
                created_at_ms: 1_000,
                person_ref: Some(&person),
            },
            &plain,
        )
        .unwrap();
    sqlx::query("UPDATE submissions SET payload = ? WHERE id = 1")
        .bind(&sealed)
        .execute(outbox.pool())
        .await
        .unwrap();
    let claim = outbox.claim(10, 2_000).await.unwrap();
    assert_eq!((claim.entries.len(), claim.quarantined), (0, 1));
    let reason = outbox.list(1).await.unwrap()[0]
        .quarantine_reason
        .clone()
        .unwrap();
    assert!(reason.contains("not the expected JSON"), "{reason}");
    assert!(
        !reason.contains(MARKER) && !reason.contains(ID_NUMBER),
        "{reason}"
    );
}
