//! The typed events every device service emits towards the application.

use crate::idcard::IdCard;
use crate::printer::PrinterStatus;
use crate::scanner::ScanPayload;

/// Which device an event or a fault concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKind {
    IdCardReader,
    Scanner,
    Printer,
    Camera,
}

impl DeviceKind {
    /// Every device a kiosk has, in the order screens and reports list them.
    pub const ALL: [DeviceKind; 4] = [
        DeviceKind::IdCardReader,
        DeviceKind::Printer,
        DeviceKind::Scanner,
        DeviceKind::Camera,
    ];

    /// A stable, lower-case name for logs and heartbeats.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::IdCardReader => "idcard",
            DeviceKind::Scanner => "scanner",
            DeviceKind::Printer => "printer",
            DeviceKind::Camera => "camera",
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a device service tells the application. Personal data inside ([`IdCard`], [`ScanPayload`])
/// redacts itself in `Debug`, so logging an event is safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// A card was placed on the reader and read successfully.
    CardPresented(Box<IdCard>),
    /// The card that was presented left the antenna.
    CardRemoved,
    /// A card was placed but could not be used (bad read, invalid number on the chip, …).
    CardRejected(CardRejection),
    /// A scanner or the camera decoded a code.
    CodeScanned(ScanPayload),
    /// The printer's status changed.
    PrinterStatus(PrinterStatus),
    /// A device stopped working; the service keeps trying to reconnect.
    DeviceFault { device: DeviceKind, reason: String },
    /// A device that had a fault works again.
    DeviceRecovered { device: DeviceKind },
}

/// Why a presented card was not accepted. The citizen is told what to do in plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardRejection {
    /// The read failed part-way (card moved, RF error): place it again.
    ReadFailed,
    /// The data on the chip failed validation (check digit, birth date).
    InvalidData,
}
