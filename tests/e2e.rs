//! End to end: a citizen's whole visit on the real `hallkiosk run` binary in a real X window
//! (Xvfb), tapped with synthetic X input (`xdotool`: pointer moved to the element, button 1 pressed
//! and released — the path X → winit → Slint a touchscreen's taps take), with
//!
//! - the ID-card reader simulator on a real pty (the reader service speaks its SAM protocol),
//! - the QR scanner simulator on a real pty,
//! - the receipt printer simulator on loopback TCP (ESC/POS through the printer service),
//! - the document camera as a `frames:` folder holding a photographed page,
//! - the real `hallkiosk sync` daemon process and the real `hallkiosk-platform` process.
//!
//! Where to tap comes from the kiosk's debug-only control socket (`run --control-socket`,
//! src/kiosk/control.rs), which tells where an element with an accessible label is on the screen.
//!
//! The visit: a one-material application, a queue ticket, a progress query by scanning the printed
//! receipt, and a rating. Checked: the printer's page has a QR that decodes to the tracking code on
//! screen; the platform received exactly one submission with the right fields; after the
//! platform's acknowledgement no personal data remains in the kiosk's database files; neither the
//! kiosk's nor the sync daemon's log holds personal data.
//!
//! Needs Xvfb and xdotool (`scripts/setup`).

use hallkiosk::shared::config::Config;
use hallkiosk_drivers::printer::receipt::Profile;
use hallkiosk_drivers::scanner::serial::{Framing, Trigger};
use hallkiosk_drivers::sim::fixtures::CardFixture;
use hallkiosk_drivers::sim::printer::{PrinterState, SimPrinter};
use hallkiosk_drivers::sim::sam::{PtySam, SamState};
use hallkiosk_drivers::sim::scanner::{on_pty, SimScanner};
use hallkiosk_platform::lab::{admin, PlatformProcess};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/control.rs"]
mod control;
#[path = "common/platform.rs"]
mod platform;
#[path = "common/xvfb.rs"]
mod xvfb;
use control::{Control, Element, Process};
use platform::platform_bin;
use xvfb::Xvfb;

const KIOSK: &str = "K-E2E";
const TOKEN: &str = "e2e-kiosk-token-0123456789abcdef";

/// The kiosk's screen: what is on it (the control socket) and taps on it (xdotool).
struct Screen {
    display: String,
    control: Control,
    kiosk: Process,
    taps: usize,
}

impl Screen {
    /// The screen of the kiosk process `kiosk`, asked through its control socket.
    fn connect(display: &str, socket: &Path, kiosk: Process) -> Screen {
        Screen {
            display: display.to_string(),
            control: Control::connect(socket),
            kiosk,
            taps: 0,
        }
    }

    fn ask(&mut self, request: &str) -> serde_json::Value {
        self.control.ask(request)
    }

    fn find(&mut self, label: &str) -> Vec<Element> {
        self.control.find(label)
    }

    fn labels(&mut self) -> Vec<String> {
        serde_json::from_value(self.ask("labels")).unwrap()
    }

    fn shows(&mut self, label: &str) -> bool {
        !self.find(label).is_empty()
    }

    /// Waits up to `limit` for `label` to be on the screen.
    fn until_shows(&mut self, limit: Duration, label: &str) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.shows(label) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            if let Some(status) = self.kiosk.0.try_wait().unwrap() {
                panic!("the kiosk exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Taps the middle of the button labelled `label` (waiting up to 10 s for it to appear).
    fn tap(&mut self, label: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let button = loop {
            let found = self.find(label);
            if let Some(b) = found
                .into_iter()
                .find(|e| e.role.as_deref() == Some("button"))
            {
                break b;
            }
            if Instant::now() > deadline {
                panic!("no button {label:?} on the screen: {:?}", self.labels());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let (x, y) = (button.x + button.w / 2.0, button.y + button.h / 2.0);
        let ok = Command::new("xdotool")
            .args(["mousemove", "--sync"])
            .arg(format!("{}", x.round() as i64))
            .arg(format!("{}", y.round() as i64))
            .args(["click", "1"])
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool is installed (scripts/setup installs it)")
            .success();
        assert!(ok, "xdotool tap on {label:?}");
        self.taps += 1;
        // Let the kiosk take the tap before the next question about the screen.
        std::thread::sleep(Duration::from_millis(60));
    }
}

/// Real time: the services, the processes and the kiosk all run on the clock.
fn until(limit: Duration, what: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    what()
}

/// Occurrences of `needle` in the kiosk's database files.
fn in_database(data: &Path, needle: &[u8]) -> usize {
    ["outbox.db", "outbox.db-wal", "outbox.db-shm"]
        .iter()
        .filter_map(|f| std::fs::read(data.join(f)).ok())
        .map(|b| b.windows(needle.len()).filter(|w| *w == needle).count())
        .sum()
}

#[test]
fn a_citizens_visit_on_the_real_binary_in_an_x_window() {
    let dir = tempfile::tempdir().unwrap();

    // The platform, with this kiosk registered.
    let db = dir.path().join("platform.db").to_str().unwrap().to_string();
    admin(
        &platform_bin(),
        &db,
        &["kiosk", "add", KIOSK, "--token", TOKEN],
    );
    let platform = PlatformProcess::start(&platform_bin(), &db, &[]);

    // The devices.
    let sam = PtySam::start(SamState::default()).unwrap();
    let (scanner, scanner_path) =
        on_pty(SimScanner::new(Framing::default(), Trigger::Continuous)).unwrap();
    let printer = SimPrinter::tcp(PrinterState::new(Profile::generic_80mm()), 0).unwrap();
    let frames = dir.path().join("camera");
    std::fs::create_dir_all(&frames).unwrap();
    hallkiosk_drivers::camera::page::simulated_document(1280, 960, 7)
        .save(frames.join("page-0001.png"))
        .unwrap();

    // The kiosk's configuration and data directory.
    let data = dir.path().join("kiosk");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("platform.token"), TOKEN).unwrap();
    let config_file = dir.path().join("kiosk.toml");
    std::fs::write(
        &config_file,
        format!(
            "[kiosk]\nid = \"{KIOSK}\"\nhall_name = \"端到端测试大厅\"\n\
             [storage]\ndata_dir = \"{}\"\n\
             [devices]\nidcard = \"serial:{}\"\nscanner = \"serial:{scanner_path}\"\n\
             printer = \"{}\"\ncamera = \"frames:{}\"\n\
             [platform]\nurl = \"{}\"\nrequest_timeout_secs = 2\nbackoff_base_ms = 50\n\
             backoff_cap_secs = 1\npoll_ms = 100\nheartbeat_secs = 5\npull_secs = 5\n",
            data.display(),
            sam.path(),
            printer.address(),
            frames.display(),
            platform.url,
        ),
    )
    .unwrap();
    let (config, _) = Config::load(Some(&config_file)).unwrap();
    assert!(!config.show_dev_dock());

    // The kiosk: `hallkiosk run` in an X window, logging to a file.
    let x = Xvfb::start(1920, 1080);
    let socket = dir.path().join("control.sock");
    let first_frame = dir.path().join("first-frame");
    let kiosk_log = dir.path().join("kiosk.log");
    let kiosk = Process(
        Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .arg("--config")
            .arg(&config_file)
            .args(["run", "--orientation", "landscape", "--control-socket"])
            .arg(&socket)
            .arg("--first-frame-file")
            .arg(&first_frame)
            .env("DISPLAY", &x.display)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&kiosk_log).unwrap())
            .spawn()
            .unwrap(),
    );
    assert!(
        until(Duration::from_secs(60), || first_frame.exists()),
        "no first frame within 60 s: {}",
        std::fs::read_to_string(&kiosk_log).unwrap_or_default()
    );
    let mut screen = Screen::connect(&x.display, &socket, kiosk);

    // The sync daemon, as its own process, logging to a file.
    let daemon_log = dir.path().join("sync.log");
    let daemon = Process(
        Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .arg("--config")
            .arg(&config_file)
            .arg("sync")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&daemon_log).unwrap())
            .spawn()
            .unwrap(),
    );

    // ---- apply: card, item, phone, one material, consent, submit ----
    screen.tap("办事");
    sam.control().place_fixture(CardFixture::Resident);
    assert!(screen.until_shows(Duration::from_secs(5), "您好，张*三"));
    screen.tap("继续");
    screen.tap("婚育收养");
    screen.tap("生育登记");
    for d in "13812345678".chars() {
        screen.tap(&d.to_string());
    }
    screen.tap("下一步");
    assert!(
        screen.until_shows(Duration::from_secs(5), "拍摄区实时画面"),
        "the document camera's live preview"
    );
    screen.tap("拍照");
    assert!(
        screen.until_shows(Duration::from_secs(10), "使用这张照片"),
        "the camera's page is photographed"
    );
    screen.tap("使用这张照片");
    screen.tap("我已阅读并同意");
    screen.tap("提交");
    assert_eq!(
        screen.taps, 20,
        "a one-material application: 9 taps and 11 phone keys (docs/ux.md)"
    );
    assert!(
        screen.until_shows(Duration::from_secs(20), "请取走回执，凭回执可查询办理进度"),
        "printed on the TCP printer: {:?}",
        screen.labels()
    );

    // The printer's paper: a QR with HKR1:<code>:<digest>, the code the screen shows.
    let page = {
        let font = hallkiosk_drivers::printer::raster::TextRaster::system().ok();
        printer.control().page.render(font.as_ref())
    };
    let mut prepared = rqrr::PreparedImage::prepare(page);
    let texts: Vec<String> = prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok().map(|(_, t)| t))
        .collect();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let receipt_qr = texts[0].clone();
    let code = receipt_qr
        .strip_prefix("HKR1:")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("not a receipt code: {receipt_qr}"))
        .to_string();
    assert!(
        code.starts_with(KIOSK),
        "the tracking code names the kiosk: {code}"
    );
    assert!(
        screen.shows(&code),
        "the receipt's code {code} is on the screen: {:?}",
        screen.labels()
    );
    screen.tap("完成");

    // ---- the platform has it exactly once, with the right fields; the kiosk keeps nothing ----
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stored = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let store = hallkiosk_platform::store::Store::open(&db, Duration::from_secs(30))
                .await
                .unwrap();
            let rows = store.submissions(Some(KIOSK)).await.unwrap();
            store.close().await;
            if !rows.is_empty() || Instant::now() > deadline {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    assert_eq!(
        stored.len(),
        1,
        "exactly one submission; sync log:\n{}",
        std::fs::read_to_string(&daemon_log).unwrap_or_default()
    );
    let s = &stored[0].submission;
    assert_eq!(s.tracking_code, code);
    assert_eq!(s.service_item, "P-MARRIA-003");
    assert_eq!(s.consent_version, hallkiosk::flows::apply::CONSENT_VERSION);
    let field = |n: &str| {
        s.fields
            .iter()
            .find(|f| f.name == n)
            .map(|f| f.value.clone())
            .unwrap_or_default()
    };
    let card = CardFixture::Resident.card();
    assert_eq!(field("name"), card.name);
    assert_eq!(field("id_number"), card.id_number);
    assert_eq!(field("phone"), "13812345678");
    assert_eq!(field("mailing_address"), card.address);
    assert_eq!(s.materials.len(), 1);
    assert_eq!(s.materials[0].mime, "image/jpeg");
    // The photographed page arrives in colour, its red seal still red.
    let photo = {
        use base64::Engine;
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(&s.materials[0].data_base64)
            .unwrap();
        assert!(jpeg.len() <= 300 * 1024, "{} bytes", jpeg.len());
        image::load_from_memory(&jpeg).unwrap()
    };
    assert_eq!(photo.color(), image::ColorType::Rgb8);
    assert!(
        photo
            .to_rgb8()
            .pixels()
            .any(|p| p.0[0] > 150 && p.0[1] < 90 && p.0[2] < 90),
        "the seal is not red in the stored photo"
    );
    let digest = hallkiosk::outbox::tracking::receipt_digest(&code, &stored[0].idempotency_key);
    assert_eq!(
        receipt_qr,
        format!("HKR1:{code}:{digest}"),
        "the platform can verify the receipt"
    );

    // After the acknowledgement, no personal data in the kiosk's database files.
    let acknowledged = until(Duration::from_secs(20), || {
        rt.block_on(async {
            let ob = hallkiosk::outbox::open_configured(&config).await.unwrap();
            let s = ob.stats(hallkiosk::shared::clock::now_ms()).await.unwrap();
            ob.close().await;
            s.accepted == 1 && s.depth() == 0
        })
    });
    assert!(acknowledged, "the outbox entry is acknowledged");
    for secret in [
        card.name.as_bytes(),
        card.id_number.as_bytes(),
        b"13812345678".as_slice(),
        card.address.as_bytes(),
    ] {
        assert_eq!(
            in_database(&data, secret),
            0,
            "{} left in the database",
            String::from_utf8_lossy(secret)
        );
    }

    // ---- a queue ticket: 取号, the card again, a category ----
    // The reader confirms a removal over a few polls (300 ms apart) before a new placement counts.
    sam.control().remove();
    std::thread::sleep(Duration::from_secs(2));
    screen.tap("取号");
    sam.control().place_fixture(CardFixture::Resident);
    assert!(screen.until_shows(Duration::from_secs(5), "您好，张*三"));
    screen.tap("继续");
    screen.tap("综合受理");
    assert!(
        screen.until_shows(Duration::from_secs(20), "请取走号票，留意叫号"),
        "the ticket is printed: {:?}",
        screen.labels()
    );
    // The number comes from the hall's queue (the platform, through the sync daemon).
    let ticket = "A001";
    assert!(screen.shows(ticket), "{:?}", screen.labels());
    assert!(screen.shows("前面还有 0 人等候"));
    assert!(!screen.shows("大厅排队系统暂时无法连接，本号由本机编号，请留意叫号"));
    assert!(printer
        .control()
        .page
        .text_lines()
        .iter()
        .any(|l| l.contains(ticket)));
    screen.tap("完成");
    sam.control().remove();

    // ---- progress: a clerk takes it up; the printed receipt's QR held to the scanner ----
    admin(
        &platform_bin(),
        &db,
        &["review", "--kiosk", KIOSK, &code, "in_review"],
    );
    scanner.control().present(receipt_qr.clone());
    assert!(
        screen.until_shows(Duration::from_secs(10), "生育登记"),
        "the receipt's submission is listed: {:?}",
        screen.labels()
    );
    assert!(screen.shows("本机：已提交至平台"));
    assert!(
        screen.shows("平台：审核中"),
        "the live state, not the cached one: {:?}",
        screen.labels()
    );
    assert!(screen.shows("平台状态为刚刚查询的结果"));
    screen.tap("首页");

    // ---- a rating below 满意, which the platform flags ----
    screen.tap("评价");
    screen.tap("不满意");
    screen.tap("等待时间长");
    assert!(screen.until_shows(Duration::from_secs(5), "感谢您的评价"));
    screen.tap("完成");
    let flagged = until(Duration::from_secs(20), || {
        rt.block_on(async {
            let store = hallkiosk_platform::store::Store::open(&db, Duration::from_secs(30))
                .await
                .unwrap();
            let f = store.flagged_ratings(10).await.unwrap();
            store.close().await;
            f.len() == 1 && f[0].reason.as_deref() == Some("long_wait")
        })
    });
    assert!(flagged, "the rating reached the platform's follow-up list");
    assert!(
        screen.until_shows(Duration::from_secs(5), "办事"),
        "home again"
    );
    eprintln!("{} synthetic taps on the real window", screen.taps);

    // Both logs recorded the work and nothing personal.
    drop(daemon);
    drop(screen);
    let log = std::fs::read_to_string(&daemon_log).unwrap();
    assert!(log.contains("ratings delivered"), "{log}");
    let kiosk_log = std::fs::read_to_string(&kiosk_log).unwrap();
    assert!(kiosk_log.contains("device event"), "{kiosk_log}");
    for secret in [
        card.name.as_str(),
        card.id_number.as_str(),
        "13812345678",
        card.address.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} in the sync log");
        assert!(!kiosk_log.contains(secret), "{secret} in the kiosk's log");
    }
}

/// The dev kiosk — `hallkiosk run` on embedded defaults, every device `sim` — runs the real
/// drivers: the dock's "place card" reaches the screen through the simulated SAM on a pty and the
/// reader service (its own "card presented" log line), and the dock's "paper out" through the
/// printer service's status poll over loopback TCP.
#[test]
fn the_dev_kiosk_on_embedded_defaults_runs_the_real_drivers() {
    assert!(
        !Path::new("/etc/hallkiosk/config.toml").exists(),
        "this machine has /etc/hallkiosk/config.toml: the kiosk would not use its embedded defaults"
    );
    let dir = tempfile::tempdir().unwrap();
    let x = Xvfb::start(1920, 1080);
    let socket = dir.path().join("control.sock");
    let first_frame = dir.path().join("first-frame");
    let kiosk_log = dir.path().join("kiosk.log");
    let kiosk = Process(
        Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .args(["run", "--control-socket"])
            .arg(&socket)
            .arg("--first-frame-file")
            .arg(&first_frame)
            .env("DISPLAY", &x.display)
            .env("XDG_DATA_HOME", dir.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&kiosk_log).unwrap())
            .spawn()
            .unwrap(),
    );
    let log = || without_colours(&std::fs::read_to_string(&kiosk_log).unwrap_or_default());
    assert!(
        until(Duration::from_secs(60), || first_frame.exists()),
        "no first frame within 60 s: {}",
        log()
    );
    let mut screen = Screen::connect(&x.display, &socket, kiosk);
    // Every device is a simulator behind a real address, started once the home screen is up.
    assert!(
        until(Duration::from_secs(10), || log()
            .contains("starting the QR scanner service")),
        "the devices did not start: {}",
        log()
    );
    for device in ["idcard", "scanner", "printer", "camera"] {
        assert!(
            log().contains(&format!("simulated device device=\"{device}\"")),
            "no simulated {device} in the log: {}",
            log()
        );
    }
    // Reader, scanner and printer on ptys: the dev kiosk needs no network (its unit allows none).
    assert_eq!(
        log()
            .lines()
            .filter(|l| l.contains("simulated device") && l.contains("serial:/dev/pts/"))
            .count(),
        3,
        "{}",
        log()
    );
    assert!(!log().contains("tcp:"), "{}", log());

    screen.tap("办事");
    assert!(!log().contains("card presented"));
    screen.tap("放置居民身份证");
    assert!(
        screen.until_shows(Duration::from_secs(10), "您好，张*三"),
        "the dock's card never reached the screen: {}",
        log()
    );
    assert!(
        log().contains("hallkiosk_drivers::idcard::service") && log().contains("card presented"),
        "the reader service did not read the card: {}",
        log()
    );

    screen.tap("结束办理");
    let banner = "打印机缺纸：办理结果将显示在屏幕上，请联系工作人员补纸";
    assert!(!screen.shows(banner));
    screen.tap("打印机缺纸");
    assert!(
        screen.until_shows(Duration::from_secs(10), banner),
        "paper out never reached the flow: {}",
        log()
    );
    assert!(log().contains("event=\"printer_status\""), "{}", log());
    // The simulated camera's frames and the print-job ledger are in the data directory.
    assert!(dir.path().join("hallkiosk/sim-camera").is_dir());
}

/// The log without its terminal colour codes (`ESC [ … m`).
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
