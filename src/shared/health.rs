//! Device health in device words ("paper out", "unplugged"), never personal data: what an event
//! says about a device. The kiosk records it for the heartbeat (`crate::kiosk::health`); the
//! maintenance screen shows it.

use hallkiosk_drivers::event::{DeviceEvent, DeviceKind};

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

/// A device's health as the heartbeat reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthLevel {
    Ok,
    Warning,
    Fault,
}

impl HealthLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthLevel::Ok => "ok",
            HealthLevel::Warning => "warning",
            HealthLevel::Fault => "fault",
        }
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
