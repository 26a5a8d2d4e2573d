//! The SAM reader on a serial port (RS-232, USB-serial or a pty): 8N1, 115200 baud by default.

pub use crate::transport::link::SerialLink;

/// The SAM's power-on rate.
pub const DEFAULT_BAUD: u32 = 115_200;
