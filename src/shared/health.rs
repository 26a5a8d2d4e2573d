//! Device health for the heartbeat. The kiosk process sees the devices' events; the sync daemon
//! (which has no device access) sends the heartbeat. So the kiosk process records each device's
//! health in the outbox database (`device_health`), and the daemon reads it from there.
//! Health carries device words only ("paper out", "unplugged"), never personal data.

use crate::outbox::{self, HealthLevel};
use hallkiosk_drivers::event::{DeviceEvent, DeviceKind};
use std::sync::mpsc;
use tokio::sync::mpsc::UnboundedReceiver;

/// A device's health after `event`, if the event says anything about it.
pub fn health_of(event: &DeviceEvent) -> Option<(DeviceKind, HealthLevel, String)> {
    match event {
        DeviceEvent::PrinterStatus(s) => {
            let mut faults = Vec::new();
            if s.offline {
                faults.push("offline");
            }
            if s.cover_open {
                faults.push("cover open");
            }
            if s.paper_end || s.stopped_by_paper_end {
                faults.push("paper out");
            }
            if s.cutter_error {
                faults.push("cutter error");
            }
            if s.unrecoverable {
                faults.push("unrecoverable error");
            }
            if s.recoverable {
                faults.push("recoverable error");
            }
            Some(if !faults.is_empty() {
                (DeviceKind::Printer, HealthLevel::Fault, faults.join(", "))
            } else if s.paper_near_end {
                (
                    DeviceKind::Printer,
                    HealthLevel::Warning,
                    "paper near end".into(),
                )
            } else {
                (DeviceKind::Printer, HealthLevel::Ok, "ready".into())
            })
        }
        DeviceEvent::DeviceFault { device, reason } => {
            Some((*device, HealthLevel::Fault, reason.clone()))
        }
        DeviceEvent::DeviceRecovered { device } => {
            Some((*device, HealthLevel::Ok, "working".into()))
        }
        _ => None,
    }
}

/// Writes health changes to the outbox database from its own thread (the UI thread never waits on
/// the disk). Dropping it ends the thread.
#[derive(Clone)]
pub struct HealthRecorder {
    tx: mpsc::Sender<(DeviceKind, HealthLevel, String)>,
}

impl HealthRecorder {
    pub fn start(config: &crate::shared::config::Config) -> HealthRecorder {
        let (tx, rx) = mpsc::channel::<(DeviceKind, HealthLevel, String)>();
        let config = config.clone();
        std::thread::Builder::new()
            .name("device-health".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let ob = match outbox::open_configured(&config).await {
                        Ok(ob) => ob,
                        Err(e) => {
                            tracing::warn!("device health will not reach the heartbeat: {e:#}");
                            return;
                        }
                    };
                    while let Ok((device, level, detail)) = rx.recv() {
                        if let Err(e) = ob
                            .set_device_health(
                                device.as_str(),
                                level,
                                &detail,
                                crate::shared::clock::now_ms(),
                            )
                            .await
                        {
                            tracing::warn!("cannot record {device} health: {e}");
                        }
                    }
                    ob.close().await;
                });
            })
            .ok();
        HealthRecorder { tx }
    }

    pub fn record(&self, event: &DeviceEvent) {
        if let Some(h) = health_of(event) {
            let _ = self.tx.send(h);
        }
    }

    /// Passes `events` on unchanged, recording health on the way.
    pub fn tap(
        &self,
        mut events: UnboundedReceiver<DeviceEvent>,
    ) -> UnboundedReceiver<DeviceEvent> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let me = self.clone();
        std::thread::Builder::new()
            .name("device-health-tap".into())
            .spawn(move || {
                while let Some(event) = events.blocking_recv() {
                    me.record(&event);
                    if tx.send(event).is_err() {
                        break;
                    }
                }
            })
            .ok();
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallkiosk_drivers::event::DeviceKind;
    use hallkiosk_drivers::printer::PrinterStatus;

    #[test]
    fn events_become_health_in_device_words() {
        let mut s = PrinterStatus::default();
        assert_eq!(
            health_of(&DeviceEvent::PrinterStatus(s)).unwrap().1,
            HealthLevel::Ok
        );
        s.paper_near_end = true;
        assert_eq!(
            health_of(&DeviceEvent::PrinterStatus(s)).unwrap(),
            (
                DeviceKind::Printer,
                HealthLevel::Warning,
                "paper near end".to_string()
            )
        );
        s.paper_end = true;
        s.cover_open = true;
        assert_eq!(
            health_of(&DeviceEvent::PrinterStatus(s)).unwrap(),
            (
                DeviceKind::Printer,
                HealthLevel::Fault,
                "cover open, paper out".to_string()
            )
        );
        let fault = DeviceEvent::DeviceFault {
            device: DeviceKind::IdCardReader,
            reason: "unplugged".into(),
        };
        assert_eq!(health_of(&fault).unwrap().0, DeviceKind::IdCardReader);
        assert_eq!(health_of(&DeviceEvent::CardRemoved), None);
    }
}
