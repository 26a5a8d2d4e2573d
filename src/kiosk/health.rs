//! The kiosk process records each device's health in the outbox database (`device_health`), from
//! the device events on their way to the flow; the sync daemon, which has no device access, reads
//! it from there for the heartbeat.

use crate::outbox;
use crate::shared::health::{health_of, HealthLevel};
use hallkiosk_drivers::event::{DeviceEvent, DeviceKind};
use std::sync::mpsc;
use tokio::sync::mpsc::UnboundedReceiver;

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
