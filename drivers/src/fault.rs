//! Fault bookkeeping shared by the device threads (scanners, the camera's scan loop): one
//! `DeviceFault` per distinct problem, one `DeviceRecovered` when the device works again, and
//! growing waits between attempts that end early when nobody listens any more.

use crate::event::{DeviceEvent, DeviceKind};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

pub struct FaultReporter<'a> {
    events: &'a UnboundedSender<DeviceEvent>,
    device: DeviceKind,
    fault: Option<String>,
    backoff: Duration,
    min: Duration,
    max: Duration,
}

impl<'a> FaultReporter<'a> {
    pub fn new(
        events: &'a UnboundedSender<DeviceEvent>,
        device: DeviceKind,
        min: Duration,
        max: Duration,
    ) -> Self {
        FaultReporter {
            events,
            device,
            fault: None,
            backoff: min,
            min,
            max,
        }
    }

    /// Reports `reason` (once while it stays the same), then waits the current backoff.
    pub fn failed(&mut self, reason: String) {
        if self.fault.as_deref() != Some(reason.as_str()) {
            tracing::warn!("{}: {reason}", self.device.as_str());
            let _ = self.events.send(DeviceEvent::DeviceFault {
                device: self.device,
                reason: reason.clone(),
            });
            self.fault = Some(reason);
        }
        sleep_unless_closed(self.events, self.backoff);
        self.backoff = (self.backoff * 2).min(self.max);
    }

    /// The device works: resets the backoff and reports the recovery after a fault.
    pub fn working(&mut self) {
        self.backoff = self.min;
        if self.fault.take().is_some() {
            tracing::info!("{}: working again", self.device.as_str());
            let _ = self.events.send(DeviceEvent::DeviceRecovered {
                device: self.device,
            });
        }
    }
}

fn sleep_unless_closed(events: &UnboundedSender<DeviceEvent>, total: Duration) {
    let until = Instant::now() + total;
    while !events.is_closed() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
}
