//! Where a device is: the address a kiosk's configuration gives for each device.
//!
//! A device is either simulated (`sim`) or reached through one of the transports below. Parsing
//! lives here so that the configuration check, the CLI and the device services agree on one syntax:
//!
//! | form | meaning |
//! |---|---|
//! | `sim` | the built-in simulator (driven by the dev dock) |
//! | `serial:PATH[@BAUD]` or a bare `/dev/…` path | serial port or USB CDC-ACM |
//! | `tcp:HOST:PORT` | network device (printers on 9100) |
//! | `usb:VID:PID` | raw USB (hex ids), e.g. `usb:0400:c35a` |
//! | `usblp:PATH` | the kernel's usblp printer file, e.g. `/dev/usb/lp0` |
//! | `evdev:PATH` | a HID keyboard-wedge scanner |
//! | `v4l2:PATH` | a V4L2 camera, e.g. `/dev/video0` |

pub mod link;
pub mod usb;

use std::fmt;
use std::str::FromStr;

/// The address of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceAddress {
    Sim,
    Serial {
        path: String,
        baud: Option<u32>,
    },
    Tcp {
        host: String,
        port: u16,
    },
    Usb {
        vid: u16,
        pid: u16,
    },
    UsbLp {
        path: String,
    },
    Evdev {
        path: String,
    },
    V4l2 {
        path: String,
    },
    /// Camera frames from an image or a folder of images (tests, demos, the dev dock).
    Frames {
        path: String,
    },
}

impl DeviceAddress {
    pub fn is_sim(&self) -> bool {
        matches!(self, DeviceAddress::Sim)
    }
}

/// Why an address string was not understood; the message says what the accepted forms are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a device address: {reason} (expected sim, serial:PATH[@BAUD], tcp:HOST:PORT, usb:VID:PID, usblp:PATH, evdev:PATH, v4l2:PATH or frames:PATH)")]
pub struct AddressError {
    pub input: String,
    pub reason: &'static str,
}

const BAUDS: [u32; 8] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

impl FromStr for DeviceAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| AddressError {
            input: s.to_string(),
            reason,
        };
        let nonempty = |p: &str| {
            if p.is_empty() {
                Err(err("the path is empty"))
            } else {
                Ok(p.to_string())
            }
        };
        if s == "sim" {
            return Ok(DeviceAddress::Sim);
        }
        if s.starts_with("/dev/") {
            return Ok(DeviceAddress::Serial {
                path: s.to_string(),
                baud: None,
            });
        }
        let (scheme, rest) = s.split_once(':').ok_or_else(|| err("no scheme"))?;
        match scheme {
            "serial" => {
                let (path, baud) = match rest.rsplit_once('@') {
                    Some((path, baud)) => {
                        let baud: u32 = baud
                            .parse()
                            .map_err(|_| err("the baud rate is not a number"))?;
                        if !BAUDS.contains(&baud) {
                            return Err(err("unsupported baud rate"));
                        }
                        (path, Some(baud))
                    }
                    None => (rest, None),
                };
                Ok(DeviceAddress::Serial {
                    path: nonempty(path)?,
                    baud,
                })
            }
            "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| err("tcp needs HOST:PORT"))?;
                let port: u16 = port
                    .parse()
                    .map_err(|_| err("the port is not a number from 1 to 65535"))?;
                if host.is_empty() || port == 0 {
                    return Err(err("tcp needs a host and a port from 1 to 65535"));
                }
                Ok(DeviceAddress::Tcp {
                    host: host.trim_matches(['[', ']']).to_string(),
                    port,
                })
            }
            "usb" => {
                let (vid, pid) = rest
                    .split_once(':')
                    .ok_or_else(|| err("usb needs VID:PID"))?;
                let hex = |v: &str| {
                    u16::from_str_radix(v, 16).map_err(|_| err("VID and PID are 4 hex digits"))
                };
                Ok(DeviceAddress::Usb {
                    vid: hex(vid)?,
                    pid: hex(pid)?,
                })
            }
            "usblp" => Ok(DeviceAddress::UsbLp {
                path: nonempty(rest)?,
            }),
            "evdev" => Ok(DeviceAddress::Evdev {
                path: nonempty(rest)?,
            }),
            "v4l2" => Ok(DeviceAddress::V4l2 {
                path: nonempty(rest)?,
            }),
            "frames" => Ok(DeviceAddress::Frames {
                path: nonempty(rest)?,
            }),
            _ => Err(err("unknown scheme")),
        }
    }
}

impl fmt::Display for DeviceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceAddress::Sim => f.write_str("sim"),
            DeviceAddress::Serial {
                path,
                baud: Some(b),
            } => write!(f, "serial:{path}@{b}"),
            DeviceAddress::Serial { path, baud: None } => write!(f, "serial:{path}"),
            DeviceAddress::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp:[{host}]:{port}")
            }
            DeviceAddress::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            DeviceAddress::Usb { vid, pid } => write!(f, "usb:{vid:04x}:{pid:04x}"),
            DeviceAddress::UsbLp { path } => write!(f, "usblp:{path}"),
            DeviceAddress::Evdev { path } => write!(f, "evdev:{path}"),
            DeviceAddress::V4l2 { path } => write!(f, "v4l2:{path}"),
            DeviceAddress::Frames { path } => write!(f, "frames:{path}"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for DeviceAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for DeviceAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_round_trips() {
        for s in [
            "sim",
            "serial:/dev/ttyUSB0",
            "serial:/dev/ttyS1@9600",
            "tcp:127.0.0.1:9100",
            "tcp:[::1]:9100",
            "usb:0400:c35a",
            "usblp:/dev/usb/lp0",
            "evdev:/dev/input/by-id/scanner",
            "v4l2:/dev/video0",
            "frames:/var/lib/hallkiosk/frames",
        ] {
            let a: DeviceAddress = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn a_bare_dev_path_is_a_serial_port() {
        assert_eq!(
            "/dev/ttyACM0".parse::<DeviceAddress>().unwrap(),
            DeviceAddress::Serial {
                path: "/dev/ttyACM0".into(),
                baud: None
            }
        );
    }

    #[test]
    fn bad_addresses_say_why() {
        for (s, why) in [
            ("serial:/dev/ttyS0@12345", "unsupported baud"),
            ("tcp:printer", "HOST:PORT"),
            ("tcp:printer:0", "port"),
            ("usb:zzzz:1", "hex"),
            ("ftp:x", "unknown scheme"),
            ("printer", "no scheme"),
            ("usblp:", "empty"),
        ] {
            let e = s.parse::<DeviceAddress>().unwrap_err().to_string();
            assert!(e.contains(why), "{s}: {e}");
        }
    }
}
