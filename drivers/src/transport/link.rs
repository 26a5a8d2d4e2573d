//! Byte links to devices: the one trait every driver talks through, and the serial and TCP links.
//! USB links live with their drivers (the SAM reader and the printer split frames differently).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A byte link to a device.
pub trait Link: Send {
    /// Sends bytes (a whole frame or job).
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what arrives within `timeout` into `buf`; `Ok(0)` when nothing did.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Changes the host side's baud rate (serial only).
    fn set_baud(&mut self, _rate: u32) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this link has no baud rate",
        ))
    }
    /// The IEEE 1284 port status byte, for links that have one (usblp's LPGETSTATUS).
    fn port_status(&mut self) -> Option<io::Result<u8>> {
        None
    }
    /// Where the link goes, for messages (`/dev/ttyUSB0`, `tcp 127.0.0.1:9100`).
    fn describe(&self) -> String;
}

impl<L: Link + ?Sized> Link for Box<L> {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).send(bytes)
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).recv(buf, timeout)
    }
    fn set_baud(&mut self, rate: u32) -> io::Result<()> {
        (**self).set_baud(rate)
    }
    fn port_status(&mut self) -> Option<io::Result<u8>> {
        (**self).port_status()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A serial port (RS-232, USB-serial, CDC-ACM or a pty), 8N1 without flow control, opened
/// exclusively.
pub struct SerialLink {
    port: serialport::TTYPort,
    path: String,
}

impl SerialLink {
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

impl Link for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        use serialport::SerialPort;
        // Large jobs may fill the output queue: keep writing within a generous bound.
        self.port
            .set_timeout(Duration::from_secs(10))
            .map_err(io::Error::from)?;
        self.port.write_all(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        use serialport::SerialPort;
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
        use serialport::SerialPort;
        self.port.set_baud_rate(rate).map_err(io::Error::from)
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}

/// A TCP connection (printers on port 9100).
pub struct TcpLink {
    stream: TcpStream,
    peer: String,
}

impl TcpLink {
    /// Connects to `host:port` within `timeout`.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpLink> {
        use std::net::ToSocketAddrs;
        let mut last = io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host}:{port} has no address"),
        );
        for addr in (host, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
                    return Ok(TcpLink {
                        stream,
                        peer: format!("tcp {addr}"),
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Link for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match self.stream.read(buf) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the printer closed the connection",
            )),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        self.peer.clone()
    }
}
