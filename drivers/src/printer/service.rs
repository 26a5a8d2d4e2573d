//! The printer service: an async task that keeps the printer open, polls its status (emitting
//! [`DeviceEvent::PrinterStatus`] on every change), prints jobs handed to it exactly once, and
//! reconnects with backoff after the printer goes away.

use super::job::{JobLedger, JobOutcome, JobState, Printer};
use super::PrinterStatus;
use crate::event::{DeviceEvent, DeviceKind};
use crate::transport::link::Link;
use std::io;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

/// Opens the link to the printer (called again after every fault).
pub type Opener = Box<dyn FnMut() -> io::Result<Box<dyn Link>> + Send>;

/// A job for the service.
pub struct JobRequest {
    pub id: String,
    pub bytes: Vec<u8>,
    /// Send again a job whose earlier attempt did not finish.
    pub reprint: bool,
    pub reply: oneshot::Sender<Result<JobOutcome, String>>,
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub poll: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How long a job may take to come out before it counts as stopped.
    pub job_timeout: Duration,
    /// How many status polls an interrupted job is checked for a late confirmation (a USB printer
    /// may still report the end of a job it had in its buffer) before it is left to a reprint.
    pub settle_checks: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            poll: Duration::from_secs(2),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            job_timeout: Duration::from_secs(20),
            settle_checks: 15,
        }
    }
}

/// Interrupted jobs waiting for a late confirmation, each checked a bounded number of times: a
/// kiosk that runs for months must not check every job it ever lost on every poll.
#[derive(Debug, Default)]
struct Unsettled {
    jobs: Vec<(String, u32)>,
}

impl Unsettled {
    fn push(&mut self, id: String) {
        if !self.jobs.iter().any(|(j, _)| *j == id) {
            self.jobs.push((id, 0));
        }
    }

    fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The jobs to check now, each counted as checked once more.
    fn take(&mut self) -> Vec<(String, u32)> {
        std::mem::take(&mut self.jobs)
            .into_iter()
            .map(|(id, n)| (id, n + 1))
            .collect()
    }

    /// Puts back a job still unconfirmed, unless it has been checked `limit` times: then it stays
    /// partly printed in the ledger, for the caller's reprint.
    fn keep(&mut self, id: String, checks: u32, limit: u32) {
        if checks < limit {
            self.jobs.push((id, checks));
        } else {
            tracing::info!(
                device = "printer",
                job = %id,
                checks,
                "no late confirmation of the interrupted job: it waits for a reprint"
            );
        }
    }
}

type BoxPrinter = Printer<Box<dyn Link>>;

/// Runs until `events` has no receiver or `jobs` is closed.
pub async fn run(
    mut open: Opener,
    config: ServiceConfig,
    mut ledger: Box<dyn JobLedger>,
    events: UnboundedSender<DeviceEvent>,
    mut jobs: UnboundedReceiver<JobRequest>,
) {
    let mut faulted: Option<String> = None;
    let mut backoff = config.backoff_min;
    let mut last: Option<PrinterStatus> = None;
    let mut unsettled = Unsettled::default();
    let fault = |faulted: &mut Option<String>, reason: String| {
        if faulted.as_deref() != Some(&reason) {
            tracing::warn!(device = "printer", %reason, "printer fault");
            let _ = events.send(DeviceEvent::DeviceFault {
                device: DeviceKind::Printer,
                reason: reason.clone(),
            });
            *faulted = Some(reason);
        }
    };
    loop {
        if events.is_closed() {
            return;
        }
        let (o, link) = match tokio::task::spawn_blocking(move || {
            let l = open();
            (open, l)
        })
        .await
        {
            Ok(x) => x,
            Err(_) => return,
        };
        open = o;
        let mut printer: BoxPrinter = match link {
            Ok(link) => Printer::new(link),
            Err(e) => {
                fault(&mut faulted, format!("cannot open the printer: {e}"));
                // Jobs that arrive meanwhile are answered, not left waiting.
                let sleep = tokio::time::sleep(backoff);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        job = jobs.recv() => match job {
                            Some(j) => { let _ = j.reply.send(Err(format!("the printer is not reachable: {e}"))); }
                            None => return,
                        },
                    }
                }
                backoff = (backoff * 2).min(config.backoff_max);
                continue;
            }
        };
        backoff = config.backoff_min;
        loop {
            // Status first: it also proves the printer answers.
            let Some((p, status)) = blocking(printer, |p| p.status()).await else {
                return stopped(&events);
            };
            printer = p;
            let status = match status {
                Ok(s) => s,
                Err(e) => {
                    fault(&mut faulted, e.to_string());
                    break;
                }
            };
            if faulted.take().is_some() {
                let _ = events.send(DeviceEvent::DeviceRecovered {
                    device: DeviceKind::Printer,
                });
            }
            if last != Some(status) {
                let _ = events.send(DeviceEvent::PrinterStatus(status));
                last = Some(status);
            }
            if status.can_print() && !unsettled.is_empty() {
                let due = unsettled.take();
                let Some((p, l, left)) = blocking2(printer, ledger, move |p, l| {
                    let mut left = Vec::new();
                    for (id, checks) in due {
                        let settled = p
                            .settle(&id, l, Duration::from_millis(200))
                            .unwrap_or(false);
                        if !settled && l.get(&id) == Some(JobState::Partial) {
                            left.push((id, checks));
                        }
                    }
                    left
                })
                .await
                else {
                    return stopped(&events);
                };
                printer = p;
                ledger = l;
                for (id, checks) in left {
                    unsettled.keep(id, checks, config.settle_checks);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(config.poll) => {}
                job = jobs.recv() => {
                    let Some(job) = job else { return };
                    let timeout = config.job_timeout;
                    let JobRequest { id, bytes, reprint, reply } = job;
                    let job_id = id.clone();
                    let Some((p, l, outcome)) = blocking2(printer, ledger, move |p, l| {
                        p.print_job(&id, &bytes, reprint, l, timeout)
                    }).await else {
                        let _ = reply.send(Err("the printer service stopped".into()));
                        return stopped(&events);
                    };
                    printer = p;
                    ledger = l;
                    match outcome {
                        Ok(o) => {
                            if matches!(o, JobOutcome::PartlyPrinted(_)) {
                                unsettled.push(job_id);
                            }
                            let _ = reply.send(Ok(o));
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e.to_string()));
                            unsettled.push(job_id);
                            fault(&mut faulted, e.to_string());
                            break;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(backoff).await;
    }
}

/// A step panicked (a bug, not device input): say so and stop rather than limp on.
fn stopped(events: &UnboundedSender<DeviceEvent>) {
    tracing::error!(
        device = "printer",
        "printer service stopped after an internal error"
    );
    let _ = events.send(DeviceEvent::DeviceFault {
        device: DeviceKind::Printer,
        reason: "the printer service stopped after an internal error".into(),
    });
}

async fn blocking<T: Send + 'static>(
    mut p: BoxPrinter,
    f: impl FnOnce(&mut BoxPrinter) -> T + Send + 'static,
) -> Option<(BoxPrinter, T)> {
    tokio::task::spawn_blocking(move || {
        let t = f(&mut p);
        (p, t)
    })
    .await
    .ok()
}

async fn blocking2<T: Send + 'static>(
    mut p: BoxPrinter,
    mut l: Box<dyn JobLedger>,
    f: impl FnOnce(&mut BoxPrinter, &mut dyn JobLedger) -> T + Send + 'static,
) -> Option<(BoxPrinter, Box<dyn JobLedger>, T)> {
    tokio::task::spawn_blocking(move || {
        let t = f(&mut p, l.as_mut());
        (p, l, t)
    })
    .await
    .ok()
}

#[cfg(test)]
mod tests {
    use super::Unsettled;

    #[test]
    fn an_interrupted_job_is_checked_for_a_late_confirmation_a_bounded_number_of_times() {
        let mut u = Unsettled::default();
        u.push("J1".into());
        u.push("J1".into());
        let mut checks = 0;
        while !u.is_empty() {
            let due = u.take();
            assert_eq!(due.len(), 1, "one entry per job, however often it failed");
            checks += 1;
            assert!(checks <= 100, "still checking after {checks} polls");
            for (id, n) in due {
                u.keep(id, n, 15);
            }
        }
        assert_eq!(checks, 15);
    }
}
