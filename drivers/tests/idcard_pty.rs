//! The ID-card driver against the simulated reader over real pty pairs (and, for USB, over
//! in-memory bulk pipes into the same simulator).

use hallkiosk_drivers::event::{CardRejection, DeviceEvent, DeviceKind};
use hallkiosk_drivers::idcard::frame::{Baud, Sw3};
use hallkiosk_drivers::idcard::reader::{ReadOptions, Reader, ReaderError, SamLink, Timeouts};
use hallkiosk_drivers::idcard::serial::{SerialLink, DEFAULT_BAUD};
use hallkiosk_drivers::idcard::service::{self, ServiceConfig};
use hallkiosk_drivers::idcard::usb::{BulkPipes, UsbLink};
use hallkiosk_drivers::idcard::{CardType, ValidTo};
use hallkiosk_drivers::sim::fixtures::CardFixture;
use hallkiosk_drivers::sim::sam::{PtySam, SamDevice, SamState};
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TODAY: &str = "2026-11-23";

fn quick() -> Timeouts {
    Timeouts {
        status: Duration::from_millis(300),
        find_select: Duration::from_millis(300),
        read: Duration::from_millis(800),
        read_with_fingerprint: Duration::from_millis(800),
        appended_address: Duration::from_millis(300),
    }
}

fn reader(sim: &PtySam) -> Reader<SerialLink> {
    Reader::new(SerialLink::open(sim.path(), DEFAULT_BAUD).unwrap(), quick())
}

#[test]
fn every_fixture_reads_over_a_real_pty() {
    let sim = PtySam::start(SamState::default()).unwrap();
    let mut r = reader(&sim);
    r.status().unwrap();
    assert_eq!(r.read_card(ReadOptions::default(), TODAY).unwrap(), None);
    for fixture in CardFixture::ALL {
        sim.control().place_fixture(fixture);
        let card = r
            .read_card(ReadOptions::default(), TODAY)
            .unwrap_or_else(|e| panic!("{fixture:?}: {e}"))
            .expect("a card");
        let want = fixture.card();
        assert_eq!(card.card_type, want.card_type, "{fixture:?}");
        assert_eq!(card.name, want.name);
        assert_eq!(card.english_name, want.english_name);
        assert_eq!(card.id_number, want.id_number);
        assert_eq!(card.birth_date, want.birth_date);
        assert_eq!(card.valid_to, want.valid_to);
        assert_eq!(card.photo, want.photo, "photo carried opaquely");
        assert!(card.fingerprints.is_empty(), "30 01 has no fingerprints");
    }
    assert_eq!(
        sim.control().log[..3],
        [
            "SAM status (11 FF)",
            "find card (20 01)",
            "find card (20 01)"
        ]
    );
}

#[test]
fn fingerprints_appended_address_sam_id_and_baud_change() {
    let mut state = SamState::default();
    state.place_fixture(CardFixture::ResidentLongTerm);
    state.appended_address = Some("北京市西城区新址路2号".into());
    let sim = PtySam::start(state).unwrap();
    let mut r = reader(&sim);
    let card = r
        .read_card(
            ReadOptions {
                fingerprint: true,
                appended_address: true,
            },
            TODAY,
        )
        .unwrap()
        .unwrap();
    assert_eq!(card.valid_to, ValidTo::LongTerm);
    assert_eq!(card.fingerprints.len(), 1024);
    assert_eq!(card.appended_address, "北京市西城区新址路2号");
    let id = r.sam_id().unwrap();
    assert_eq!(id.to_string(), "05.01-123456789-000123456-001234567");
    r.set_baud(Baud::B57600).unwrap();
    assert_eq!(
        sim.control().baud,
        57_600,
        "the simulator paces at the new rate"
    );
    r.status().unwrap();
}

#[test]
fn every_sw3_fault_reaches_the_caller_typed() {
    let sim = PtySam::start(SamState::default()).unwrap();
    let mut r = reader(&sim);
    for sw3 in Sw3::ALL_KNOWN.into_iter().filter(|s| !s.is_success()) {
        {
            let mut c = sim.control();
            c.place_fixture(CardFixture::Resident);
            c.faults.sw3 = Some(sw3);
        }
        let got = match r.read_card(ReadOptions::default(), TODAY) {
            Err(ReaderError::Status { sw3, .. }) => Some(sw3),
            Ok(None) => Some(Sw3::NoCard),
            other => panic!("{sw3:?}: {other:?}"),
        };
        let status = r.status().err();
        let seen = [
            got,
            status.and_then(|e| match e {
                ReaderError::Status { sw3, .. } => Some(sw3),
                _ => None,
            }),
        ];
        assert!(seen.contains(&Some(sw3)), "{sw3:?}: {seen:?}");
        assert!(!sw3.message_zh().is_empty() && !sw3.message_en().is_empty());
    }
}

#[test]
fn truncation_silence_and_corruption_are_clear_errors() {
    let sim = PtySam::start(SamState::default()).unwrap();
    let mut r = reader(&sim);
    sim.control().place_fixture(CardFixture::Resident);
    sim.control().faults.truncate_read = Some(700);
    let e = r.read_card(ReadOptions::default(), TODAY).unwrap_err();
    assert!(matches!(e, ReaderError::Timeout { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("did not answer read (30 01) within 800 ms"),
        "{e}"
    );

    sim.control().faults = Default::default();
    sim.control().faults.silent_read = true;
    sim.control().place_fixture(CardFixture::Resident);
    let e = r.read_card(ReadOptions::default(), TODAY).unwrap_err();
    assert!(matches!(e, ReaderError::Timeout { .. }), "{e}");

    sim.control().faults = Default::default();
    sim.control().faults.corrupt_read = true;
    sim.control().place_fixture(CardFixture::Resident);
    let e = r.read_card(ReadOptions::default(), TODAY).unwrap_err();
    assert!(matches!(e, ReaderError::Frame { .. }), "{e}");

    // After all that, the same reader reads a good card: nothing stale is left in the pipe.
    sim.control().faults = Default::default();
    sim.control().place_fixture(CardFixture::HkMoTw);
    let card = r.read_card(ReadOptions::default(), TODAY).unwrap().unwrap();
    assert_eq!(card.card_type, CardType::HkMoTw);
}

#[test]
fn unplugging_mid_read_is_an_error_not_a_hang_or_a_panic() {
    let mut state = SamState::default();
    state.place_fixture(CardFixture::Resident);
    state.read_delay = Duration::from_millis(400);
    let sim = PtySam::start(state).unwrap();
    let mut r = reader(&sim);
    let started = Instant::now();
    let reading = std::thread::spawn(move || r.read_card(ReadOptions::default(), TODAY));
    std::thread::sleep(Duration::from_millis(150));
    sim.unplug();
    let result = reading.join().expect("no panic");
    assert!(
        matches!(
            result,
            Err(ReaderError::Io { .. } | ReaderError::Timeout { .. })
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Events from the service until `until` matches one, or `within` passes.
fn collect_until(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<DeviceEvent>,
    within: Duration,
    until: impl Fn(&DeviceEvent) -> bool,
) -> Vec<DeviceEvent> {
    let end = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < end {
        match rx.try_recv() {
            Ok(e) => {
                let stop = until(&e);
                seen.push(e);
                if stop {
                    break;
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    seen
}

fn start_service(path: Arc<Mutex<String>>) -> tokio::sync::mpsc::UnboundedReceiver<DeviceEvent> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = ServiceConfig {
        poll: Duration::from_millis(50),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        timeouts: quick(),
        today: Arc::new(|| TODAY.to_string()),
        ..ServiceConfig::default()
    };
    let opener: service::Opener = Box::new(move || {
        let p = path.lock().unwrap().clone();
        SerialLink::open(&p, DEFAULT_BAUD).map(|l| Box::new(l) as Box<dyn SamLink>)
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(service::run(opener, config, tx));
    });
    rx
}

#[test]
fn the_service_reads_once_per_placement_with_and_without_the_sticky_quirk() {
    for sticky in [false, true] {
        let mut state = SamState::default();
        state.sticky = sticky;
        let sim = PtySam::start(state).unwrap();
        let mut rx = start_service(Arc::new(Mutex::new(sim.path().to_string())));
        sim.control().place_fixture(CardFixture::Resident);
        let first = collect_until(&mut rx, Duration::from_secs(5), |e| {
            matches!(e, DeviceEvent::CardPresented(_))
        });
        assert!(
            matches!(first.last(), Some(DeviceEvent::CardPresented(_))),
            "{first:?}"
        );
        // The card stays on the antenna for a dozen polls: no second read event.
        let quiet = collect_until(&mut rx, Duration::from_millis(700), |_| false);
        assert!(quiet.is_empty(), "sticky={sticky}: {quiet:?}");
        let reads = sim
            .control()
            .log
            .iter()
            .filter(|c| c.starts_with("read"))
            .count();
        if sticky {
            assert!(reads > 2, "the quirk is handled by reading: {reads}");
        }
        sim.control().remove();
        let gone = collect_until(&mut rx, Duration::from_secs(3), |e| {
            matches!(e, DeviceEvent::CardRemoved)
        });
        assert_eq!(gone, vec![DeviceEvent::CardRemoved], "sticky={sticky}");
        // Placing another card is a new placement.
        sim.control().place_fixture(CardFixture::Foreign2017);
        let next = collect_until(&mut rx, Duration::from_secs(3), |e| {
            matches!(e, DeviceEvent::CardPresented(_))
        });
        match next.as_slice() {
            [DeviceEvent::CardPresented(c)] => assert_eq!(c.card_type, CardType::Foreign2017),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_service_rejects_bad_cards_once_and_reports_failed_reads() {
    let sim = PtySam::start(SamState::default()).unwrap();
    let mut rx = start_service(Arc::new(Mutex::new(sim.path().to_string())));
    let mut bad = CardFixture::Resident.card();
    bad.birth_date = "1990-03-08".into(); // the chip disagrees with the number
    sim.control().place(bad);
    let seen = collect_until(&mut rx, Duration::from_secs(3), |e| {
        matches!(e, DeviceEvent::CardRejected(_))
    });
    assert_eq!(
        seen.last(),
        Some(&DeviceEvent::CardRejected(CardRejection::InvalidData))
    );
    assert!(collect_until(&mut rx, Duration::from_millis(500), |_| false).is_empty());
    sim.control().remove();
    std::thread::sleep(Duration::from_millis(300));
    sim.control().faults.sw3 = Some(Sw3::CardAuthenticatesSamFailed);
    sim.control().place_fixture(CardFixture::Resident);
    let seen = collect_until(&mut rx, Duration::from_secs(3), |e| {
        matches!(e, DeviceEvent::CardRejected(_))
    });
    assert_eq!(
        seen.last(),
        Some(&DeviceEvent::CardRejected(CardRejection::ReadFailed))
    );
}

#[test]
fn the_service_reports_unplug_and_recovers_on_a_new_port() {
    let sim = PtySam::start(SamState::default()).unwrap();
    let path = Arc::new(Mutex::new(sim.path().to_string()));
    let mut rx = start_service(Arc::clone(&path));
    sim.control().place_fixture(CardFixture::Resident);
    collect_until(&mut rx, Duration::from_secs(3), |e| {
        matches!(e, DeviceEvent::CardPresented(_))
    });
    sim.unplug();
    let seen = collect_until(&mut rx, Duration::from_secs(5), |e| {
        matches!(e, DeviceEvent::DeviceFault { .. })
    });
    assert!(seen.contains(&DeviceEvent::CardRemoved), "{seen:?}");
    assert!(
        matches!(
            seen.last(),
            Some(DeviceEvent::DeviceFault {
                device: DeviceKind::IdCardReader,
                ..
            })
        ),
        "{seen:?}"
    );
    // Plugged back in (on a new pty, as a USB-serial adapter may come back as another node).
    let again = PtySam::start(SamState::default()).unwrap();
    *path.lock().unwrap() = again.path().to_string();
    let seen = collect_until(&mut rx, Duration::from_secs(5), |e| {
        matches!(e, DeviceEvent::DeviceRecovered { .. })
    });
    assert_eq!(
        seen.last(),
        Some(&DeviceEvent::DeviceRecovered {
            device: DeviceKind::IdCardReader
        }),
        "{seen:?}"
    );
    again.control().place_fixture(CardFixture::ResidentEdge);
    let seen = collect_until(&mut rx, Duration::from_secs(3), |e| {
        matches!(e, DeviceEvent::CardPresented(_))
    });
    assert!(matches!(seen.last(), Some(DeviceEvent::CardPresented(_))));
}

#[test]
fn a_sam_fault_is_a_device_fault() {
    let mut state = SamState::default();
    state.faults.sw3 = Some(Sw3::SamSelfTestFailed);
    let sim = PtySam::start(state).unwrap();
    let mut rx = start_service(Arc::new(Mutex::new(sim.path().to_string())));
    let seen = collect_until(&mut rx, Duration::from_secs(3), |e| {
        matches!(e, DeviceEvent::DeviceFault { .. })
    });
    match seen.last() {
        Some(DeviceEvent::DeviceFault { reason, .. }) => {
            assert!(reason.contains("SW3 60"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    sim.control().faults.sw3 = None;
    let seen = collect_until(&mut rx, Duration::from_secs(3), |e| {
        matches!(e, DeviceEvent::DeviceRecovered { .. })
    });
    assert!(matches!(
        seen.last(),
        Some(DeviceEvent::DeviceRecovered { .. })
    ));
}

/// In-memory USB pipes into the simulator: what goes out on 0x02/0x06 is one request, what the
/// simulator answers comes back split on 0x81/0x85.
struct SimPipes {
    device: SamDevice,
    state: SamState,
    out_header: Vec<u8>,
    header_in: VecDeque<Vec<u8>>,
    body_in: VecDeque<u8>,
    endpoints_used: Vec<u8>,
}

impl BulkPipes for SimPipes {
    fn write_bulk(&mut self, ep: u8, data: &[u8], _: Duration) -> io::Result<usize> {
        self.endpoints_used.push(ep);
        match ep {
            0x02 => self.out_header = data.to_vec(),
            0x06 => {
                let mut frame = std::mem::take(&mut self.out_header);
                frame.extend_from_slice(data);
                for reply in self.device.receive(&mut self.state, &frame) {
                    self.header_in.push_back(reply.bytes[..7].to_vec());
                    self.body_in.extend(&reply.bytes[7..]);
                }
            }
            _ => return Err(io::Error::other("no such OUT endpoint")),
        }
        Ok(data.len())
    }

    fn read_bulk(&mut self, ep: u8, buf: &mut [u8], _: Duration) -> io::Result<usize> {
        self.endpoints_used.push(ep);
        match ep {
            0x81 => Ok(self.header_in.pop_front().map_or(0, |h| {
                buf[..h.len()].copy_from_slice(&h);
                h.len()
            })),
            0x85 => {
                // 64-byte packets, as full-speed bulk delivers them.
                let n = buf.len().min(64).min(self.body_in.len());
                for (slot, b) in buf.iter_mut().zip(self.body_in.drain(..n)) {
                    *slot = b;
                }
                Ok(n)
            }
            _ => Err(io::Error::other("no such IN endpoint")),
        }
    }
}

#[test]
fn usb_frames_are_split_over_the_four_endpoints() {
    let mut state = SamState::default();
    state.place_fixture(CardFixture::Foreign2023);
    let pipes = SimPipes {
        device: SamDevice::new(),
        state,
        out_header: Vec::new(),
        header_in: VecDeque::new(),
        body_in: VecDeque::new(),
        endpoints_used: Vec::new(),
    };
    let mut r = Reader::new(UsbLink::new(pipes, "usb sim".into()), quick());
    let card = r.read_card(ReadOptions::default(), TODAY).unwrap().unwrap();
    assert_eq!(card.card_type, CardType::Foreign2023);
    assert_eq!(
        card.english_name,
        CardFixture::Foreign2023.card().english_name
    );
    let link = r.into_link();
    let used = &link.pipes().endpoints_used;
    let out: Vec<u8> = used.iter().copied().filter(|e| e & 0x80 == 0).collect();
    assert_eq!(
        out,
        [0x02, 0x06].repeat(3),
        "find, select, read: header then body"
    );
    let first_body = used.iter().position(|&e| e == 0x85).unwrap();
    assert_eq!(used[first_body - 1], 0x81, "IN header before IN body");
}

/// A link that never stops sending noise: every exchange still ends within its timeout.
struct Babbler;

impl SamLink for Babbler {
    fn send(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn recv(&mut self, buf: &mut [u8], _: Duration) -> io::Result<usize> {
        let n = buf.len().min(64);
        buf[..n].fill(0x55);
        Ok(n)
    }
    fn describe(&self) -> String {
        "babbler".into()
    }
}

#[test]
fn a_babbling_line_times_out_instead_of_hanging() {
    let mut r = Reader::new(Babbler, quick());
    let started = Instant::now();
    let e = r.status().unwrap_err();
    assert!(matches!(e, ReaderError::Timeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(1));
}
