//! The printer driver against the simulated printer over loopback TCP and a pty: status of every
//! fault, jobs printed exactly once, paper out mid-job, unplug mid-job.

use hallkiosk_drivers::printer::job::{
    FileLedger, JobLedger, JobOutcome, JobState, MemoryLedger, Printer,
};
use hallkiosk_drivers::printer::link;
use hallkiosk_drivers::printer::receipt::{encode, Profile, Receipt};
use hallkiosk_drivers::sim::printer::{PrinterState, SimPrinter};
use hallkiosk_drivers::transport::link::Link;
use hallkiosk_drivers::transport::DeviceAddress;
use std::time::Duration;

fn connect(sim: &SimPrinter) -> Printer<Box<dyn Link>> {
    let address: DeviceAddress = sim.address().parse().unwrap();
    Printer::new(link::open(&address).unwrap())
}

fn receipt(lines: usize) -> Vec<u8> {
    let mut r = Receipt::new();
    for i in 0..lines {
        r = r.text(format!("第{i}行 受理编号 HK-0001"));
    }
    encode(&r.qr("HK-0001", 4), &Profile::generic_80mm(), None).unwrap()
}

const DONE: Duration = Duration::from_secs(3);

#[test]
fn every_fault_shows_in_the_status_over_tcp_and_pty() {
    for sim in [
        SimPrinter::tcp(PrinterState::new(Profile::generic_80mm()), 0).unwrap(),
        SimPrinter::pty(PrinterState::new(Profile::generic_80mm())).unwrap(),
    ] {
        let mut p = connect(&sim);
        assert!(p.status().unwrap().can_print(), "{}", sim.address());
        type Set = fn(&mut PrinterState);
        type Get = fn(&hallkiosk_drivers::printer::PrinterStatus) -> bool;
        let faults: [(Set, Get); 6] = [
            (
                |s| s.paper_near_end = true,
                |st| st.paper_near_end && st.can_print(),
            ),
            (|s| s.paper_end = true, |st| st.paper_end && !st.can_print()),
            (|s| s.cover_open = true, |st| st.cover_open && st.offline),
            (|s| s.cutter_error = true, |st| st.cutter_error),
            (|s| s.unrecoverable = true, |st| st.unrecoverable),
            (|s| s.recoverable = true, |st| st.recoverable),
        ];
        for (set, get) in faults {
            for clone in [false, true] {
                {
                    let mut c = sim.control();
                    *c = PrinterState::new(Profile::generic_80mm());
                    c.clone_status = clone;
                    set(&mut c);
                    c.changed();
                }
                let st = p.status().unwrap();
                assert!(get(&st), "{} clone={clone}: {st:?}", sim.address());
            }
        }
    }
}

#[test]
fn a_job_prints_once_however_often_it_is_sent() {
    let sim = SimPrinter::tcp(PrinterState::new(Profile::generic_80mm()), 0).unwrap();
    let mut p = connect(&sim);
    let mut ledger = MemoryLedger::default();
    let job = receipt(5);
    assert_eq!(
        p.print_job("J1", &job, false, &mut ledger, DONE).unwrap(),
        JobOutcome::Printed
    );
    let lines = sim.control().page.text_lines().len();
    assert_eq!(lines, 5);
    for reprint in [false, true] {
        assert_eq!(
            p.print_job("J1", &job, reprint, &mut ledger, DONE).unwrap(),
            JobOutcome::AlreadyPrinted
        );
    }
    assert_eq!(
        sim.control().page.text_lines().len(),
        5,
        "nothing printed twice"
    );
    assert_eq!(sim.control().page.cuts(), 1);
}

#[test]
fn a_printer_that_is_not_ready_gets_nothing() {
    let mut state = PrinterState::new(Profile::generic_80mm());
    state.cover_open = true;
    let sim = SimPrinter::tcp(state, 0).unwrap();
    let mut p = connect(&sim);
    let mut ledger = MemoryLedger::default();
    match p
        .print_job("J2", &receipt(2), false, &mut ledger, DONE)
        .unwrap()
    {
        JobOutcome::NotPrinted(st) => assert!(st.cover_open),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ledger.get("J2"),
        None,
        "nothing was sent, so nothing to reprint"
    );
    let received = sim.control().received;
    assert!(
        received < 20,
        "only status requests went out: {received} bytes"
    );
}

#[test]
fn paper_out_mid_job_is_partly_printed_and_settles_when_paper_returns() {
    let mut state = PrinterState::new(Profile::generic_80mm());
    state.paper_runs_out_after = Some(3);
    let sim = SimPrinter::tcp(state, 0).unwrap();
    let mut p = connect(&sim);
    let mut ledger = MemoryLedger::default();
    let job = receipt(8);
    match p
        .print_job("J3", &job, false, &mut ledger, Duration::from_millis(500))
        .unwrap()
    {
        JobOutcome::PartlyPrinted(st) => assert!(st.paper_end && st.stopped_by_paper_end, "{st:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ledger.get("J3"), Some(JobState::Partial));
    assert_eq!(sim.control().page.text_lines().len(), 3);
    assert_eq!(
        p.print_job("J3", &job, false, &mut ledger, DONE).unwrap(),
        JobOutcome::NeedsReprint,
        "not reprinted unless asked"
    );
    // New paper: the printer finishes its buffer and answers the job's GS r.
    {
        let mut c = sim.control();
        c.paper_end = false;
        c.paper_near_end = false;
        c.paper_runs_out_after = None;
        c.changed();
    }
    assert!(p.settle("J3", &mut ledger, DONE).unwrap());
    assert_eq!(ledger.get("J3"), Some(JobState::Printed));
    assert_eq!(
        sim.control().page.text_lines().len(),
        8,
        "the rest came out"
    );
    assert_eq!(
        p.print_job("J3", &job, true, &mut ledger, DONE).unwrap(),
        JobOutcome::AlreadyPrinted
    );
}

#[test]
fn a_lost_buffer_is_reprinted_only_when_asked() {
    let mut state = PrinterState::new(Profile::generic_80mm());
    state.paper_runs_out_after = Some(2);
    let sim = SimPrinter::tcp(state, 0).unwrap();
    let mut p = connect(&sim);
    let mut ledger = MemoryLedger::default();
    let job = receipt(4);
    assert!(matches!(
        p.print_job("J4", &job, false, &mut ledger, Duration::from_millis(300))
            .unwrap(),
        JobOutcome::PartlyPrinted(_)
    ));
    {
        let mut c = sim.control();
        c.paper_end = false;
        c.paper_near_end = false;
        c.paper_runs_out_after = None;
        c.power_cycle();
    }
    assert!(!p
        .settle("J4", &mut ledger, Duration::from_millis(300))
        .unwrap());
    assert_eq!(
        p.print_job("J4", &job, true, &mut ledger, DONE).unwrap(),
        JobOutcome::Printed
    );
    assert_eq!(sim.control().page.text_lines().len(), 2 + 4);
}

#[test]
fn unplugging_mid_job_is_an_error_and_the_job_is_not_marked_printed() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_path = dir.path().join("jobs.jsonl");
    let mut state = PrinterState::new(Profile::generic_80mm());
    state.paper_runs_out_after = Some(1); // holds the job so the unplug lands mid-job
    let sim = SimPrinter::tcp(state, 0).unwrap();
    let mut p = connect(&sim);
    let mut ledger = FileLedger::open(&ledger_path).unwrap();
    let job = receipt(6);
    let printing = std::thread::spawn(move || {
        let r = p.print_job("J5", &job, false, &mut ledger, Duration::from_secs(2));
        (r, ledger.get("J5"))
    });
    std::thread::sleep(Duration::from_millis(300));
    sim.unplug();
    let (result, state) = printing.join().expect("no panic");
    assert!(
        matches!(&result, Err(_) | Ok(JobOutcome::PartlyPrinted(_))),
        "{result:?}"
    );
    assert_eq!(state, Some(JobState::Partial));
    // The ledger file says so after a restart too, and a torn last line is ignored.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&ledger_path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"job\":\"J5\",\"sta"))
        .unwrap();
    let reopened = FileLedger::open(&ledger_path).unwrap();
    assert_eq!(reopened.get("J5"), Some(JobState::Partial));
}

#[test]
fn the_service_reports_status_changes_prints_jobs_and_survives_an_unplug() {
    use hallkiosk_drivers::event::DeviceEvent;
    use hallkiosk_drivers::printer::service::{self, JobRequest, ServiceConfig};
    let sim = SimPrinter::tcp(PrinterState::new(Profile::generic_80mm()), 0).unwrap();
    let address: DeviceAddress = sim.address().parse().unwrap();
    let port = sim.address().rsplit(':').next().unwrap().to_string();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (jobs_tx, jobs_rx) = tokio::sync::mpsc::unbounded_channel();
    let config = ServiceConfig {
        poll: Duration::from_millis(50),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(100),
        job_timeout: Duration::from_secs(2),
        ..ServiceConfig::default()
    };
    let opener: service::Opener = Box::new(move || link::open(&address));
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(service::run(
                opener,
                config,
                Box::new(MemoryLedger::default()),
                tx,
                jobs_rx,
            ))
    });
    let next = |rx: &mut tokio::sync::mpsc::UnboundedReceiver<DeviceEvent>| {
        let end = std::time::Instant::now() + Duration::from_secs(3);
        while std::time::Instant::now() < end {
            if let Ok(e) = rx.try_recv() {
                return Some(e);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    };
    assert!(matches!(next(&mut rx), Some(DeviceEvent::PrinterStatus(s)) if s.can_print()));
    let (reply, answer) = tokio::sync::oneshot::channel();
    jobs_tx
        .send(JobRequest {
            id: "S1".into(),
            bytes: receipt(3),
            reprint: false,
            reply,
        })
        .unwrap();
    assert_eq!(answer.blocking_recv().unwrap(), Ok(JobOutcome::Printed));
    {
        let mut c = sim.control();
        c.paper_end = true;
        c.changed();
    }
    assert!(
        matches!(next(&mut rx), Some(DeviceEvent::PrinterStatus(s)) if s.paper_end && !s.can_print())
    );
    sim.unplug();
    assert!(matches!(
        next(&mut rx),
        Some(DeviceEvent::DeviceFault { .. })
    ));
    let (reply, answer) = tokio::sync::oneshot::channel();
    jobs_tx
        .send(JobRequest {
            id: "S2".into(),
            bytes: receipt(1),
            reprint: false,
            reply,
        })
        .unwrap();
    let refused = answer.blocking_recv().unwrap();
    assert!(
        matches!(&refused, Err(why) if why.contains("not reachable")),
        "{refused:?}"
    );
    // Plugged back in on the same port: recovered, and jobs print again.
    let port: u16 = port.parse().unwrap();
    let again = SimPrinter::tcp(PrinterState::new(Profile::generic_80mm()), port).unwrap();
    let mut recovered = false;
    while let Some(e) = next(&mut rx) {
        if matches!(e, DeviceEvent::DeviceRecovered { .. }) {
            recovered = true;
            break;
        }
    }
    assert!(recovered);
    let (reply, answer) = tokio::sync::oneshot::channel();
    jobs_tx
        .send(JobRequest {
            id: "S3".into(),
            bytes: receipt(2),
            reprint: false,
            reply,
        })
        .unwrap();
    assert_eq!(answer.blocking_recv().unwrap(), Ok(JobOutcome::Printed));
    assert_eq!(again.control().page.text_lines().len(), 2);
}

/// In-memory bulk pipes into the simulated printer: OUT carries data, IN carries its replies.
struct SimBulk {
    device: hallkiosk_drivers::sim::printer::PrinterDevice,
    state: PrinterState,
    replies: std::collections::VecDeque<u8>,
}

impl hallkiosk_drivers::transport::usb::BulkPipes for SimBulk {
    fn write_bulk(&mut self, ep: u8, data: &[u8], _: Duration) -> std::io::Result<usize> {
        assert_eq!(ep, 0x01, "bulk OUT");
        // Full-speed bulk packets are 64 bytes; take one at a time, as the device would.
        let n = data.len().min(64);
        let out = self.device.receive(&mut self.state, &data[..n]);
        self.replies.extend(out);
        Ok(n)
    }
    fn read_bulk(&mut self, ep: u8, buf: &mut [u8], _: Duration) -> std::io::Result<usize> {
        assert_eq!(ep, 0x82, "bulk IN");
        let n = buf.len().min(self.replies.len());
        for (slot, b) in buf.iter_mut().zip(self.replies.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

#[test]
fn raw_usb_jobs_go_out_on_bulk_and_status_comes_back_on_bulk_in() {
    let state = PrinterState::new(Profile::generic_80mm());
    let device = hallkiosk_drivers::sim::printer::PrinterDevice::new(&state);
    let pipes = SimBulk {
        device,
        state,
        replies: Default::default(),
    };
    let link = link::UsbPrinterLink::new(pipes, 0x01, Some(0x82), "usb sim".into());
    let mut p = Printer::new(link);
    p.status_timeout = Duration::from_millis(50);
    assert!(p.status().unwrap().can_print());
    let mut ledger = MemoryLedger::default();
    assert_eq!(
        p.print_job(
            "U1",
            &receipt(4),
            false,
            &mut ledger,
            Duration::from_millis(200)
        )
        .unwrap(),
        JobOutcome::Printed
    );
}

#[test]
fn ledger_lines_have_an_end_date() {
    use hallkiosk_drivers::printer::job::compact_ledger;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.jsonl");
    let day = 24 * 3600 * 1000;
    let keep = Some(Duration::from_millis(7 * day as u64));
    let t0 = 1_000_000_000_000;
    let mut ledger = FileLedger::open_at(&path, keep, t0).unwrap();
    ledger.set_at("OLD", JobState::Printed, t0).unwrap();
    ledger
        .set_at("NEW", JobState::Printed, t0 + 6 * day)
        .unwrap();
    // A maintainer's purge leaves a ledger in use alone.
    assert_eq!(compact_ledger(&path, t0 + 8 * day, false).unwrap(), None);
    // In use, the ledger compacts itself once a day on its next write.
    ledger
        .set_at("LATER", JobState::Printed, t0 + 8 * day)
        .unwrap();
    assert_eq!(ledger.get("OLD"), None);
    assert_eq!(ledger.get("NEW"), Some(JobState::Printed));
    drop(ledger);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("OLD"), "{text}");
    assert!(text.contains("NEW") && text.contains("LATER"));
    // Closed: a maintainer's purge (dry run first) drops what is past its end date.
    assert_eq!(compact_ledger(&path, t0 + 14 * day, true).unwrap(), Some(2));
    assert!(std::fs::read_to_string(&path).unwrap().contains("NEW"));
    assert_eq!(
        compact_ledger(&path, t0 + 14 * day, false).unwrap(),
        Some(2)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    // Reopening drops old lines too, including those written before lines had a time.
    std::fs::write(&path, "{\"job\":\"LEGACY\",\"state\":\"printed\"}\n").unwrap();
    let reopened = FileLedger::open_at(&path, keep, t0 + 20 * day).unwrap();
    assert_eq!(reopened.get("LEGACY"), None);
}
