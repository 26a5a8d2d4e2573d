//! End to end: a citizen's whole visit on the kiosk, wired exactly as `hallkiosk run` wires it
//! (`hallkiosk::app::start` with a configuration file), on Slint's testing backend (driven through
//! accessible labels), with
//!
//! - the ID-card reader simulator on a real pty (the reader service speaks its SAM protocol),
//! - the QR scanner simulator on a real pty,
//! - the receipt printer simulator on loopback TCP (ESC/POS through the printer service),
//! - the document camera as a `frames:` folder holding a photographed page,
//! - the real `hallkiosk sync` daemon process and the real `hallkiosk-platform` process.
//!
//! The visit: a one-material application, a queue ticket, a progress query by scanning the printed
//! receipt, and a rating. Checked: the printer's page has a QR that decodes to the tracking code on
//! screen; the platform received exactly one submission with the right fields; after the
//! platform's acknowledgement no personal data remains in the kiosk's database files.

use hallkiosk::catalog::Catalog;
use hallkiosk::config::Config;
use hallkiosk::flows::kiosk::Kiosk;
use hallkiosk::ui::KioskUi;
use hallkiosk_drivers::printer::receipt::Profile;
use hallkiosk_drivers::scanner::serial::{Framing, Trigger};
use hallkiosk_drivers::sim::fixtures::CardFixture;
use hallkiosk_drivers::sim::printer::{PrinterState, SimPrinter};
use hallkiosk_drivers::sim::sam::{PtySam, SamState};
use hallkiosk_drivers::sim::scanner::{on_pty, SimScanner};
use hallkiosk_platform::lab::{admin, PlatformProcess};
use i_slint_backend_testing::{mock_elapsed_time, AccessibleRole, ElementHandle};
use slint::ComponentHandle;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KIOSK: &str = "K-E2E";
const TOKEN: &str = "e2e-kiosk-token-0123456789abcdef";

fn platform_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk")).with_file_name("hallkiosk-platform");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args([
                "build",
                "-p",
                "hallkiosk-platform",
                "--bin",
                "hallkiosk-platform",
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "build hallkiosk-platform");
    }
    bin
}

fn find(ui: &KioskUi, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(ui.window(), label).collect()
}

fn shows(ui: &KioskUi, label: &str) -> bool {
    !find(ui, label).is_empty()
}

fn click(ui: &KioskUi, label: &str) {
    let b = find(ui, label)
        .into_iter()
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .unwrap_or_else(|| {
            panic!(
                "no button {label:?} on page {:?}",
                ui.with_kiosk(Kiosk::page)
            )
        });
    b.invoke_accessible_default_action();
    mock_elapsed_time(Duration::from_millis(16));
}

/// Real time for the services and processes, mock time for the window's timers.
fn until(limit: Duration, what: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
        mock_elapsed_time(Duration::from_millis(50));
    }
    what()
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
fn a_citizens_visit_from_card_to_platform() {
    i_slint_backend_testing::init_integration_test_with_mock_time();
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
    let running = hallkiosk::app::start(&config, Catalog::bundled().unwrap()).unwrap();
    let ui = &running.ui;
    ui.window()
        .window()
        .set_size(slint::LogicalSize::new(1920.0, 1080.0));
    ui.window().show().unwrap();
    mock_elapsed_time(Duration::from_millis(16));

    // The sync daemon, as its own process, logging to a file.
    let daemon_log = dir.path().join("sync.log");
    let daemon = Daemon(
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
    click(ui, "办事");
    sam.control().place_fixture(CardFixture::Resident);
    assert!(until(Duration::from_secs(5), || shows(ui, "您好，张*三")));
    click(ui, "继续");
    click(ui, "婚育收养");
    click(ui, "生育登记");
    for d in "13812345678".chars() {
        click(ui, &d.to_string());
    }
    click(ui, "下一步");
    click(ui, "拍照");
    assert!(
        until(Duration::from_secs(10), || shows(ui, "使用这张照片")),
        "the camera's page is photographed"
    );
    click(ui, "使用这张照片");
    click(ui, "我已阅读并同意");
    click(ui, "提交");
    assert!(
        until(Duration::from_secs(20), || shows(
            ui,
            "请取走回执，凭回执可查询办理进度"
        )),
        "printed on the TCP printer: {:?}",
        ui.with_kiosk(|k| k.application().and_then(|a| a.submitted.clone()))
    );
    let code = ui.with_kiosk(|k| {
        k.application()
            .and_then(|a| a.submitted.clone())
            .map(|s| s.tracking_code)
            .unwrap()
    });
    assert!(shows(ui, &code));

    // The printer's paper: a QR with HKR1:<code>:<digest>.
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
    assert!(
        receipt_qr.starts_with(&format!("HKR1:{code}:")),
        "{receipt_qr}"
    );
    click(ui, "完成");

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
            let s = ob.stats(hallkiosk::outbox::now_ms()).await.unwrap();
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
    click(ui, "取号");
    sam.control().place_fixture(CardFixture::Resident);
    assert!(until(Duration::from_secs(5), || shows(ui, "您好，张*三")));
    click(ui, "继续");
    click(ui, "综合受理");
    assert!(
        until(Duration::from_secs(20), || shows(
            ui,
            "请取走号票，留意叫号"
        )),
        "the ticket is printed"
    );
    // The number comes from the hall's queue (the platform, through the sync daemon).
    let ticket = "A001";
    assert!(
        shows(ui, ticket),
        "{:?}",
        ui.with_kiosk(|k| k.ticket().cloned())
    );
    assert!(shows(ui, "前面还有 0 人等候"));
    assert!(!shows(
        ui,
        "大厅排队系统暂时无法连接，本号由本机编号，请留意叫号"
    ));
    assert!(printer
        .control()
        .page
        .text_lines()
        .iter()
        .any(|l| l.contains(ticket)));
    click(ui, "完成");
    sam.control().remove();

    // ---- progress: a clerk takes it up; the printed receipt's QR held to the scanner ----
    admin(
        &platform_bin(),
        &db,
        &["review", "--kiosk", KIOSK, &code, "in_review"],
    );
    scanner.control().present(receipt_qr.clone());
    assert!(
        until(Duration::from_secs(10), || shows(ui, "生育登记")),
        "the receipt's submission is listed"
    );
    assert!(shows(ui, "本机：已提交至平台"));
    assert!(
        shows(ui, "平台：审核中"),
        "the live state, not the cached one: {:?}",
        ui.with_kiosk(|k| k.progress().cloned())
    );
    assert!(shows(ui, "平台状态为刚刚查询的结果"));
    click(ui, "首页");

    // ---- a rating below 满意, which the platform flags ----
    click(ui, "评价");
    click(ui, "不满意");
    click(ui, "等待时间长");
    assert!(until(Duration::from_secs(5), || shows(ui, "感谢您的评价")));
    click(ui, "完成");
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

    // The sync daemon logged its work and nothing personal.
    drop(daemon);
    drop(running);
    let log = std::fs::read_to_string(&daemon_log).unwrap();
    assert!(log.contains("ratings delivered"), "{log}");
    for secret in [card.name.as_str(), card.id_number.as_str(), "13812345678"] {
        assert!(!log.contains(secret), "{secret} in the sync log");
    }
}
