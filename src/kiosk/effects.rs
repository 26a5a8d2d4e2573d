//! Runs the flows' [`Effect`]s off the UI thread and reports each result as a [`Done`]:
//!
//! - **Save**: a store thread owns the outbox (SQLite, its own small tokio runtime) and answers
//!   only after the submission is durable. It also says whether the sync daemon reached the
//!   platform lately, which decides the receipt's offline note.
//! - **Capture** and the live **preview**: the document camera's thread
//!   ([`crate::kiosk::document_camera`]; V4L2, a `frames:` folder, or the simulated camera), the page found
//!   and cropped, a JPEG under 300 KB.
//! - **Print**: the receipt rendered to ESC/POS for the configured profile and handed to the printer
//!   service (job id = tracking code, so it prints once) — a hall's printer or, on the dev kiosk,
//!   the simulated one, which files each receipt as `<data_dir>/receipts/<tracking code>.png`.
//!
//! Nothing here decides what the citizen sees; the flow does, from the `Done` it gets.

use crate::flows::effect::{
    Done, Effect, MaintenanceStats, PrintProblem, ProgressLookup, ProgressReport, ReceiptInfo,
    SaveProblem, Saved, Ticket,
};
use crate::flows::kiosk::Visit;
use crate::kiosk::document_camera::DocumentCamera;
use crate::kiosk::receipt::{
    application_receipt, local_time, status_receipt, ticket_receipt, ReceiptPlace,
};
use crate::outbox::{self, NewRating, NewSubmission};
use crate::shared::config::{Config, Locale, QueueCategory};
use crate::sync::local::{ask, Reply, Request, ASK_TIMEOUT};
use hallkiosk_drivers::printer::job::JobOutcome;
use hallkiosk_drivers::printer::raster::TextRaster;
use hallkiosk_drivers::printer::receipt::{encode, Profile};
use hallkiosk_drivers::printer::service::JobRequest;
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Work for the store thread (everything that touches the outbox database).
enum StoreJob {
    Save(NewSubmission),
    Ticket {
        category: QueueCategory,
        locale: Locale,
    },
    Progress(ProgressLookup),
    Rating(NewRating),
    Stats,
}

/// Runs effects; cheap to clone.
#[derive(Clone)]
pub struct EffectRunner {
    store: mpsc::Sender<(Visit, StoreJob)>,
    camera: DocumentCamera,
    /// The printer service's job queue.
    printer: UnboundedSender<JobRequest>,
    profile: Profile,
    hall: Arc<(String, String)>,
    kiosk: Arc<str>,
    /// Answers, each with the visit whose effect it answers.
    done: mpsc::Sender<(Visit, Done)>,
}

impl EffectRunner {
    /// Starts the store thread. Results arrive on the returned receiver.
    pub fn start(
        config: &Config,
        printer: UnboundedSender<JobRequest>,
    ) -> (EffectRunner, mpsc::Receiver<(Visit, Done)>) {
        let (done_tx, done_rx) = mpsc::channel();
        let (store_tx, store_rx) = mpsc::channel::<(Visit, StoreJob)>();
        let store_done = done_tx.clone();
        let store_config = config.clone();
        let spawned = std::thread::Builder::new()
            .name("outbox-store".into())
            .spawn(move || store_thread(&store_config, store_rx, store_done));
        if let Err(e) = spawned {
            tracing::error!("cannot start the outbox store thread: {e}");
        }
        let runner = EffectRunner {
            store: store_tx,
            camera: DocumentCamera::start(config.devices.camera.clone(), done_tx.clone()),
            printer,
            profile: config.devices.printer_profile.profile(),
            hall: Arc::new((
                config.kiosk.hall_name.clone(),
                config.kiosk.hall_name_en.clone(),
            )),
            kiosk: config.kiosk.id.to_string().into(),
            done: done_tx,
        };
        (runner, done_rx)
    }

    /// Starts (`Some(material)`) or stops the document camera's live preview.
    pub fn preview(&self, material: Option<usize>) {
        self.camera.preview(material);
    }

    /// The newest preview frame not yet shown.
    pub fn take_preview(&self) -> Option<image::RgbImage> {
        self.camera.take_preview()
    }

    /// Runs `effect`, asked for during `visit`; its result comes back as a [`Done`] with that
    /// visit (the flow drops answers for a visit that has ended).
    pub fn run(&self, visit: Visit, effect: Effect) {
        let to_store = |job: StoreJob, fail: fn(String) -> Done| {
            if self.store.send((visit, job)).is_err() {
                let _ = self
                    .done
                    .send((visit, fail("the outbox store is not running".into())));
            }
        };
        match effect {
            Effect::Save(s) => to_store(StoreJob::Save(s), |e| Done::Saved(Err(SaveProblem(e)))),
            Effect::IssueTicket { category, locale } => {
                to_store(StoreJob::Ticket { category, locale }, |e| {
                    Done::TicketIssued(Err(e))
                })
            }
            Effect::LookupProgress(l) => {
                to_store(StoreJob::Progress(l), |e| Done::ProgressFound(Err(e)))
            }
            Effect::SaveRating(r) => to_store(StoreJob::Rating(r), |e| Done::RatingSaved(Err(e))),
            Effect::MaintenanceStats => to_store(StoreJob::Stats, |e| Done::Stats(Err(e))),
            Effect::PrintTicket(t) => {
                let me = self.clone();
                self.spawn("print-ticket", move || {
                    let time = local_time(t.issued_at_ms);
                    let receipt = ticket_receipt(&t, &me.place(t.locale, &time));
                    // Numbers repeat (daily, and in the hall's queue system): the job id is this
                    // ticket's own, so a reused number is printed, not found "already printed".
                    let job = format!("ticket-{}-{}", t.issued_at_ms, t.number);
                    let result = me.print_document(&receipt, &job);
                    let _ = me.done.send((visit, Done::TicketPrinted(result)));
                });
            }
            Effect::PrintStatusPage(lines) => {
                let me = self.clone();
                self.spawn("print-status", move || {
                    let now = crate::shared::clock::now_ms();
                    let time = local_time(now);
                    let receipt = status_receipt(&lines, &me.place(Locale::ZhCn, &time));
                    let id = format!("status-{now}");
                    let result = me.print_document(&receipt, &id);
                    let _ = me.done.send((visit, Done::StatusPrinted(result)));
                });
            }
            Effect::Capture { material } => self.camera.capture(visit, material, &self.done),
            Effect::Print(info) => {
                let me = self.clone();
                self.spawn("print-receipt", move || {
                    let result = me.print(&info);
                    let _ = me.done.send((visit, Done::Printed(result)));
                });
            }
        }
    }

    fn spawn(&self, name: &str, f: impl FnOnce() + Send + 'static) {
        if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(f) {
            tracing::error!("cannot start a {name} thread: {e}");
        }
    }

    fn place<'a>(&'a self, locale: Locale, time: &'a str) -> ReceiptPlace<'a> {
        ReceiptPlace {
            hall: if locale == Locale::En {
                &self.hall.1
            } else {
                &self.hall.0
            },
            kiosk: &self.kiosk,
            time,
        }
    }

    fn print(&self, info: &ReceiptInfo) -> Result<(), PrintProblem> {
        let time = local_time(info.saved_at_ms);
        let receipt = application_receipt(info, &self.place(info.locale, &time));
        self.print_document(&receipt, &info.tracking_code)
    }

    /// Prints `receipt` as job `id` (printed once even if asked again).
    fn print_document(
        &self,
        receipt: &hallkiosk_drivers::printer::receipt::Receipt,
        id: &str,
    ) -> Result<(), PrintProblem> {
        // The system CJK font only draws characters outside GBK; without it those print as boxes.
        let font = TextRaster::system().ok();
        let bytes = encode(receipt, &self.profile, font.as_ref()).map_err(|e| {
            tracing::error!("cannot encode the receipt: {e}");
            PrintProblem::PrinterUnavailable
        })?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = JobRequest {
            id: id.to_string(),
            bytes,
            // A receipt that stopped half way is printed again only when the citizen asks
            // (the flow's 重新打印 sends the same job again).
            reprint: true,
            reply,
        };
        if self.printer.send(job).is_err() {
            return Err(PrintProblem::PrinterUnavailable);
        }
        match answer.blocking_recv() {
            Ok(Ok(JobOutcome::Printed | JobOutcome::AlreadyPrinted)) => Ok(()),
            Ok(Ok(JobOutcome::NotPrinted(s) | JobOutcome::PartlyPrinted(s)))
                if s.paper_end || s.stopped_by_paper_end =>
            {
                Err(PrintProblem::PaperOut)
            }
            Ok(Ok(other)) => {
                tracing::warn!("receipt not printed: {other:?}");
                Err(PrintProblem::PrinterUnavailable)
            }
            Ok(Err(e)) => {
                tracing::warn!("receipt not printed: {e}");
                Err(PrintProblem::PrinterUnavailable)
            }
            Err(_) => Err(PrintProblem::PrinterUnavailable),
        }
    }
}

fn store_thread(
    config: &Config,
    jobs: mpsc::Receiver<(Visit, StoreJob)>,
    done: mpsc::Sender<(Visit, Done)>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("outbox store: no runtime: {e}");
            return;
        }
    };
    let reachable_window_ms = config.platform.heartbeat_secs.0 as i64 * 3 * 1000;
    let kiosk = config.kiosk.id.to_string();
    let socket = config.data_dir().join(crate::sync::local::SOCKET);
    let mut outbox: Option<outbox::Outbox> = None;
    while let Ok((visit, job)) = jobs.recv() {
        // Opened on first use (and again after a failure): a kiosk whose storage is broken still
        // starts and shows the citizen a plain message instead of dying.
        if outbox.is_none() {
            match runtime.block_on(outbox::open_configured(config)) {
                Ok(ob) => outbox = Some(ob),
                Err(e) => {
                    let e = format!("{e:#}");
                    tracing::error!("outbox store unavailable: {e}");
                    if done.send((visit, failed(job, e))).is_err() {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some(ob) = outbox.as_ref() else { continue };
        let answer = runtime.block_on(store_job(ob, job, reachable_window_ms, &kiosk, &socket));
        if let Done::Saved(Err(_)) = &answer {
            // Open afresh next time (the file may have been restored or the disk freed).
            outbox = None;
        }
        if done.send((visit, answer)).is_err() {
            return;
        }
    }
}

/// The answer to a job that could not run.
fn failed(job: StoreJob, e: String) -> Done {
    match job {
        StoreJob::Save(_) => Done::Saved(Err(SaveProblem(e))),
        StoreJob::Ticket { .. } => Done::TicketIssued(Err(e)),
        StoreJob::Progress(_) => Done::ProgressFound(Err(e)),
        StoreJob::Rating(_) => Done::RatingSaved(Err(e)),
        StoreJob::Stats => Done::Stats(Err(e)),
    }
}

/// The platform's live states for `rows`, asked through the sync daemon within 2 s; the cached
/// states (and `live: false`) when it cannot answer.
fn live_states(mut rows: Vec<outbox::Progress>, socket: &std::path::Path) -> ProgressReport {
    if rows.is_empty() {
        return ProgressReport { rows, live: false };
    }
    let codes = rows.iter().map(|r| r.tracking_code.clone()).collect();
    match ask(
        socket,
        &Request::Lookup {
            tracking_codes: codes,
        },
        ASK_TIMEOUT,
    ) {
        Ok(Reply::Lookup { states }) => {
            for (code, state) in states {
                if let Some(r) = rows.iter_mut().find(|r| r.tracking_code == code) {
                    r.platform_state = Some(state);
                }
            }
            ProgressReport { rows, live: true }
        }
        Ok(other) => {
            tracing::warn!("unexpected answer to a lookup: {other:?}");
            ProgressReport { rows, live: false }
        }
        Err(e) => {
            tracing::info!("progress shows cached platform states: {e}");
            ProgressReport { rows, live: false }
        }
    }
}

async fn store_job(
    ob: &outbox::Outbox,
    job: StoreJob,
    reachable_window_ms: i64,
    kiosk: &str,
    socket: &std::path::Path,
) -> Done {
    let now = crate::shared::clock::now_ms();
    match job {
        StoreJob::Save(submission) => {
            let result = async {
                let enqueued = ob.enqueue(&submission, now).await?;
                let platform_reachable = ob
                    .platform_reached_within(reachable_window_ms, now)
                    .await
                    .unwrap_or(false);
                Ok::<_, outbox::OutboxError>(Saved {
                    tracking_code: enqueued.tracking_code,
                    idempotency_key: enqueued.idempotency_key,
                    saved_at_ms: now,
                    platform_reachable,
                })
            }
            .await;
            match &result {
                Ok(s) => tracing::info!(code = %s.tracking_code, "submission saved to the outbox"),
                Err(e) => tracing::error!("submission not saved: {e}"),
            }
            Done::Saved(result.map_err(|e| SaveProblem(e.to_string())))
        }
        StoreJob::Ticket { category, locale } => {
            // The hall's queue system, through the sync daemon, within 2 s; else the kiosk
            // numbers the ticket itself, with its own prefix, and says so.
            let asked = ask(
                socket,
                &Request::Ticket {
                    category: category.code.0.clone(),
                },
                ASK_TIMEOUT,
            );
            match asked {
                Ok(Reply::Ticket(t)) => {
                    return Done::TicketIssued(Ok(Ticket {
                        number: t.number,
                        category,
                        ahead: Some(t.ahead),
                        issued_at_ms: t.issued_at_ms,
                        local: false,
                        locale,
                    }))
                }
                Ok(other) => tracing::warn!("unexpected answer to a ticket request: {other:?}"),
                Err(e) => tracing::warn!("queue ticket numbered locally: {e}"),
            }
            let day = crate::shared::clock::local_today();
            let result = ob
                .next_local_ticket(&day, &category.code.0)
                .await
                .map(|seq| Ticket {
                    number: format!("{kiosk}-{}{seq:03}", category.code.0),
                    category,
                    ahead: None,
                    issued_at_ms: now,
                    local: true,
                    locale,
                })
                .map_err(|e| e.to_string());
            Done::TicketIssued(result)
        }
        StoreJob::Progress(lookup) => {
            let query = match &lookup {
                ProgressLookup::Code(c) => outbox::ProgressQuery::Code(c),
                ProgressLookup::Person(n) => outbox::ProgressQuery::Person(n),
            };
            let rows = match ob.progress(&query).await {
                Ok(rows) => rows,
                Err(e) => return Done::ProgressFound(Err(e.to_string())),
            };
            Done::ProgressFound(Ok(live_states(rows, socket)))
        }
        StoreJob::Rating(r) => Done::RatingSaved(
            ob.add_rating(&r, now)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        ),
        StoreJob::Stats => {
            let result = async {
                let stats = ob.stats(now).await?;
                let last_contact_ms = ob
                    .sync_value(outbox::LAST_CONTACT)
                    .await?
                    .and_then(|v| v.parse().ok());
                Ok::<_, outbox::OutboxError>(MaintenanceStats {
                    outbox_depth: stats.depth(),
                    oldest_unacknowledged_secs: stats.oldest_unacknowledged_secs,
                    rejected: stats.rejected,
                    quarantined: stats.quarantined,
                    ratings_waiting: ob.unsent_rating_count().await?,
                    last_contact_ms,
                    platform_reachable: ob
                        .platform_reached_within(reachable_window_ms, now)
                        .await?,
                })
            }
            .await;
            Done::Stats(result.map_err(|e| e.to_string()))
        }
    }
}
