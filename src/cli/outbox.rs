//! `hallkiosk outbox stats|list|test-submit`: the offline outbox seen from the command line —
//! counts and ages, recent entries without personal data, synthetic test submissions.

use crate::outbox;
use crate::shared::config::Config;
use anyhow::Result;
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Entry counts by state and the age of the oldest entry the platform has not acknowledged
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// The newest entries: tracking code, service item, state, attempts, last error
    List {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Queue synthetic test submissions (service item `kiosk-selftest`, no real person) to check the
    /// way to the platform; prints each tracking code and key once it is durable
    /// Purge what is past its end date ([retention]): rejected payloads, person references,
    /// delivered ratings, receipt images, print-ledger lines. Unacknowledged entries are kept
    Purge {
        /// Count only; change nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Put quarantined entries back in the queue (after the right payload key was restored); one
    /// that still cannot be opened is quarantined again
    Release,
    /// The payload keys: current and retired, with how many stored payloads each still seals;
    /// `--prune` deletes retired keys that seal none
    Keys {
        #[arg(long)]
        prune: bool,
    },
    /// Start a new payload key for new entries; the old one is kept in outbox-keys/ until no
    /// entry needs it (`keys --prune`). Not with a systemd credential key (provision a new one)
    RotateKey,
    TestSubmit {
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Size of the one synthetic material image
        #[arg(long, default_value_t = 2048)]
        material_bytes: usize,
    },
}

pub fn command(config_path: Option<&Path>, c: OutboxCommand) -> Result<()> {
    let (config, _) = Config::load(config_path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ob = outbox::open_configured(&config).await?;
        let now = crate::shared::clock::now_ms();
        match c {
            OutboxCommand::Stats { json } => {
                let s = ob.stats(now).await?;
                let alarm = s
                    .oldest_unacknowledged_secs
                    .is_some_and(|age| age > outbox::AGE_ALARM_SECS);
                if json {
                    let mut v = serde_json::to_value(&s)?;
                    v["depth"] = s.depth().into();
                    v["age_alarm"] = alarm.into();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    println!("queued     {}", s.queued);
                    println!("sending    {}", s.sending);
                    println!("accepted   {}", s.accepted);
                    println!("rejected   {}", s.rejected);
                    println!("quarantined {}", s.quarantined);
                    match s.oldest_unacknowledged_secs {
                        Some(age) => println!("oldest unacknowledged: {age} s ago"),
                        None => println!("oldest unacknowledged: none"),
                    }
                    if s.quarantined > 0 {
                        println!(
                            "ALARM: {} entries cannot be opened or parsed (quarantined; see `outbox list`)",
                            s.quarantined
                        );
                    }
                    if alarm {
                        println!(
                            "ALARM: an entry has waited more than {} h for the platform",
                            outbox::AGE_ALARM_SECS / 3600
                        );
                    }
                }
            }
            OutboxCommand::TestSubmit {
                count,
                material_bytes,
            } => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                for i in 0..count {
                    let e = ob
                        .enqueue(
                            &outbox::test_submission(i, material_bytes),
                            crate::shared::clock::now_ms(),
                        )
                        .await?;
                    // Printed only after the commit: a printed code is an acknowledged submission.
                    writeln!(out, "{}\t{}", e.tracking_code, e.idempotency_key)?;
                    out.flush()?;
                }
            }
            OutboxCommand::Purge { dry_run, json } => {
                let p = outbox::retention::purge_all(
                    &ob,
                    &config.data_dir(),
                    &config.retention,
                    now,
                    dry_run,
                )
                .await?;
                if json {
                    let mut v = serde_json::to_value(&p)?;
                    v["dry_run"] = dry_run.into();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    let verb = if dry_run { "would purge" } else { "purged" };
                    println!("{verb}:");
                    println!("rejected payloads   {}", p.rejected_payloads);
                    println!("person references   {}", p.person_refs);
                    println!("delivered ratings   {}", p.ratings);
                    println!("receipt images      {}", p.receipt_images);
                    match p.ledger_jobs {
                        Some(n) => println!("print-ledger jobs   {n}"),
                        None => println!(
                            "print-ledger jobs   - (in use by the running kiosk, which compacts it daily)"
                        ),
                    }
                }
            }
            OutboxCommand::Release => {
                let n = ob.release_quarantined(now).await?;
                println!("{n} quarantined entries queued again");
            }
            OutboxCommand::Keys { prune } => {
                let counts = ob.payloads_by_key().await?;
                let ring = ob.keyring();
                let id = |k: &outbox::crypto::PayloadKey| outbox::crypto::id_hex(&k.id());
                let n = |k: &outbox::crypto::PayloadKey| counts.get(&id(k)).copied().unwrap_or(0);
                println!("current  {}  {} payloads  {}", id(ring.current()), n(ring.current()), ring.current().source().display());
                for k in ring.retired() {
                    let left = n(k);
                    if prune && left == 0 {
                        std::fs::remove_file(k.source())?;
                        println!("retired  {}  0 payloads  removed {}", id(k), k.source().display());
                    } else {
                        println!("retired  {}  {left} payloads  {}", id(k), k.source().display());
                    }
                }
                if let Some(n) = counts.get("format0") {
                    println!("format 0 (not yet sealed again)  {n} payloads");
                }
            }
            OutboxCommand::RotateKey => {
                let dir = config.data_dir();
                let current = ob.keyring().current().source().to_path_buf();
                anyhow::ensure!(
                    current == dir.join(outbox::KEY_FILE),
                    "the payload key comes from {} (a systemd credential): provision a new \
                     credential and put the old key in {}/ instead (docs/operations.md)",
                    current.display(),
                    dir.join(outbox::crypto::RETIRED_DIR).display()
                );
                // The daemon must see the new key from its first use: it loads the ring at start.
                let _daemon_stopped = crate::sync::lock(&dir).map_err(|_| {
                    anyhow::anyhow!("stop hallkiosk-sync first (it holds {}); start it again after the rotation", dir.join(crate::sync::LOCK_FILE).display())
                })?;
                let retired_dir = dir.join(outbox::crypto::RETIRED_DIR);
                std::fs::create_dir_all(&retired_dir)?;
                std::fs::set_permissions(
                    &retired_dir,
                    std::os::unix::fs::PermissionsExt::from_mode(0o700),
                )?;
                let old_id = outbox::crypto::id_hex(&ob.keyring().current().id());
                let retired = retired_dir.join(format!("{old_id}.key"));
                std::fs::rename(&current, &retired)?;
                outbox::crypto::create_key_file(&current)?;
                let new = outbox::crypto::PayloadKey::read(&current, true)?;
                println!(
                    "new key {} for new entries; {old_id} kept in {} until no entry needs it",
                    outbox::crypto::id_hex(&new.id()),
                    retired.display()
                );
            }
            OutboxCommand::List { limit, json } => {
                let entries = ob.list(limit).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&entries)?);
                } else {
                    for e in entries {
                        println!(
                            "{}\t{}\t{}\t{} attempts\tplatform: {}\t{}",
                            e.tracking_code,
                            e.service_item,
                            e.state,
                            e.attempts,
                            e.platform_state.as_deref().unwrap_or("-"),
                            e.quarantine_reason
                                .or(e.reject_reason)
                                .or(e.last_error)
                                .unwrap_or_default()
                        );
                    }
                }
            }
        }
        ob.close().await;
        Ok::<(), anyhow::Error>(())
    })
}
