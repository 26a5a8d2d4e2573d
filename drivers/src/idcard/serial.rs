//! The SAM reader on a serial port (RS-232, USB-serial or a pty): 8N1, 115200 baud by default.

use super::reader::SamLink;
use serialport::{SerialPort, TTYPort};
use std::io::{self, Read, Write};
use std::time::Duration;

/// The SAM's power-on rate.
pub const DEFAULT_BAUD: u32 = 115_200;

/// A serial link to a SAM module.
pub struct SerialLink {
    port: TTYPort,
    path: String,
}

impl SerialLink {
    /// Opens `path` at `baud`, 8 data bits, no parity, 1 stop bit, no flow control.
    pub fn open(path: &str, baud: u32) -> io::Result<SerialLink> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open_native()
            .map_err(io::Error::from)?;
        Ok(SerialLink {
            port,
            path: path.to_string(),
        })
    }
}

impl SamLink for SerialLink {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.port.write_all(frame)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.port.set_timeout(timeout).map_err(io::Error::from)?;
        match self.port.read(buf) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the serial port closed",
            )),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn set_baud(&mut self, rate: u32) -> io::Result<()> {
        self.port.set_baud_rate(rate).map_err(io::Error::from)
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}
