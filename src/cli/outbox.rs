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
                    match s.oldest_unacknowledged_secs {
                        Some(age) => println!("oldest unacknowledged: {age} s ago"),
                        None => println!("oldest unacknowledged: none"),
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
                            e.reject_reason.or(e.last_error).unwrap_or_default()
                        );
                    }
                }
            }
        }
        ob.close().await;
        Ok::<(), anyhow::Error>(())
    })
}
