//! Screenshots of every screen, in Chinese, English and elder mode, rendered by Slint's software
//! renderer (the renderer the kiosk image uses on DRM/KMS) into memory: the real window component,
//! driven through its accessible labels like the UI tests, with the real outbox and effect runner.
//!
//! Each screenshot is checked for being a drawn screen (many colours, not blank) and written to
//! `target/ux-screens/`; `scripts/ux-screens` copies them into `docs/ux/` for docs/ux.md.

use hallkiosk::flows::kiosk::Kiosk;
use hallkiosk::kiosk::bridge::KioskUi;
use hallkiosk::shared::catalog::Catalog;
use hallkiosk::shared::config::Config;
use hallkiosk_drivers::sim::rig::SimRig;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PlatformError};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static CLOCK_MS: AtomicU64 = AtomicU64::new(0);

struct Screens {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for Screens {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }
    fn duration_since_start(&self) -> Duration {
        Duration::from_millis(CLOCK_MS.load(Ordering::SeqCst))
    }
}

/// Lets `ms` of window time pass (timers fire) while real time lets worker threads run.
fn pass(ms: u64) {
    let mut left = ms;
    while left > 0 {
        let step = left.min(50);
        CLOCK_MS.fetch_add(step, Ordering::SeqCst);
        slint::platform::update_timers_and_animations();
        left -= step;
    }
}

fn find(ui: &KioskUi, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(ui.window(), label).collect()
}

fn shows(ui: &KioskUi, label: &str) -> bool {
    !find(ui, label).is_empty()
}

fn click(ui: &KioskUi, label: &str) {
    find(ui, label)
        .into_iter()
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .unwrap_or_else(|| {
            panic!(
                "no button {label:?} on page {:?}",
                ui.with_kiosk(Kiosk::page)
            )
        })
        .invoke_accessible_default_action();
    pass(20);
}

/// A dev dock button: waits until the simulated device's service has told the flow.
fn dock(ui: &KioskUi, rig: &SimRig, label: &str) {
    // A card placed over another is a lift (removed) and a placement (presented).
    let events = if label.contains("ID card") || label.starts_with("放置") {
        1 + u64::from(rig.card_placed())
    } else {
        1
    };
    let before = ui.device_events();
    click(ui, label);
    assert!(
        until(|| ui.device_events() >= before + events),
        "the dock's {label:?} never reached the flow"
    );
}

fn until(what: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
        pass(50);
    }
    false
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("ux-screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Camera {
    window: Rc<MinimalSoftwareWindow>,
    app: slint::Weak<hallkiosk::kiosk::bridge::AppWindow>,
    taken: Vec<String>,
}

/// The buttons that move a citizen on: wherever one is shown it must lie wholly inside the screen
/// (lists may scroll; these may not).
const ACTIONS: &[&str] = &[
    "下一步",
    "Next",
    "拍照",
    "Take photo",
    "重拍",
    "Retake",
    "使用这张照片",
    "Use this photo",
    "到窗口补交",
    "Hand in at a window",
    "我已阅读并同意",
    "I have read and agree",
    "提交",
    "Submit",
    "完成",
    "Done",
    "首页",
    "Home",
    "返回",
    "Back",
];

impl Camera {
    /// Renders the window and saves it at half size as `<variant>-<name>.png`.
    fn shot(&mut self, variant: &str, name: &str) {
        pass(100);
        let size = self.window.size();
        let app = self.app.upgrade().unwrap();
        let scale = self.window.scale_factor();
        let (sw, sh) = (size.width as f32 / scale, size.height as f32 / scale);
        for label in ACTIONS {
            for e in ElementHandle::find_by_accessible_label(&app, label)
                .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            {
                let (p, z) = (e.absolute_position(), e.size());
                assert!(
                    p.x >= 0.0 && p.y >= 0.0 && p.x + z.width <= sw + 0.5 && p.y + z.height <= sh + 0.5,
                    "{variant}-{name}: {label} at ({}, {}) size {}×{} is not wholly on the {sw}×{sh} screen",
                    p.x,
                    p.y,
                    z.width,
                    z.height
                );
            }
        }
        let (w, h) = (size.width as usize, size.height as usize);
        let mut pixels = vec![slint::Rgb8Pixel::default(); w * h];
        self.window.request_redraw();
        self.window.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, w);
        });
        let raw: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        let img = image::RgbImage::from_raw(w as u32, h as u32, raw).unwrap();
        let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        assert!(
            colours.len() > 40,
            "{variant}-{name}: only {} colours, not a drawn screen",
            colours.len()
        );
        let small = image::imageops::resize(
            &img,
            w as u32 / 2,
            h as u32 / 2,
            image::imageops::FilterType::Triangle,
        );
        let file = format!("{variant}-{name}.png");
        small.save(out_dir().join(&file)).unwrap();
        self.taken.push(file);
    }
}

/// Sets the variant again (going home resets language and elder mode).
fn enter(ui: &KioskUi, variant: &str) {
    match variant {
        "en" => click(ui, "English"),
        "elder" => click(ui, "长辈模式"),
        _ => {}
    }
}

/// Walks every screen once in `variant`, photographing each.
fn walk(ui: &KioskUi, rig: &SimRig, cam: &mut Camera, variant: &str) {
    let en = variant == "en";
    let t = |zh: &'static str, english: &'static str| if en { english } else { zh };
    enter(ui, variant);
    cam.shot(variant, "01-home");

    click(ui, t("办事指南", "Service guide"));
    cam.shot(variant, "02-guide-themes");
    click(ui, t("社会保险", "Social insurance"));
    cam.shot(variant, "03-guide-items");
    click(
        ui,
        t(
            "社会保障卡申领",
            "Apply for a social security card (社保卡)",
        ),
    );
    cam.shot(variant, "04-guide-item");
    click(ui, t("首页", "Home"));
    enter(ui, variant);

    click(ui, t("办事", "Apply"));
    cam.shot(variant, "05-identify-waiting");
    dock(ui, rig, t("放置居民身份证", "Place resident ID card"));
    cam.shot(variant, "06-identify-greeting");
    click(ui, t("继续", "Continue"));
    cam.shot(variant, "07-apply-choose-theme");
    click(ui, t("婚育收养", "Marriage, birth & adoption"));
    cam.shot(variant, "08-apply-choose-item");
    click(ui, t("生育登记", "Birth registration (生育登记)"));
    // Elder mode types on a page of its own: 完成 back to the form and its 下一步.
    let elder = variant == "elder";
    if elder {
        click(ui, t("完成", "Done"));
    }
    click(ui, t("下一步", "Next"));
    cam.shot(variant, "09-apply-form-problem");
    for d in "13812345678".chars() {
        click(ui, &d.to_string());
    }
    if elder {
        click(ui, t("完成", "Done"));
    }
    // On a short panel the address lies below the list's room: the citizen scrolls to it; here
    // the tap it ends with.
    if find(ui, t("通讯地址", "Mailing address")).is_empty() {
        ui.intent(hallkiosk::flows::kiosk::Intent::Apply(
            hallkiosk::flows::apply::ApplyIntent::FocusField(1),
        ));
        pass(50);
    } else {
        click(ui, t("通讯地址", "Mailing address"));
    }
    click(ui, "L");
    click(ui, "U");
    cam.shot(variant, "10-apply-form-pinyin");
    if elder {
        click(ui, t("完成", "Done"));
    }
    click(ui, t("下一步", "Next"));
    assert!(until(|| shows(
        ui,
        t("拍摄区实时画面", "Live view of the camera area")
    )));
    cam.shot(variant, "11-apply-material");
    click(ui, t("拍照", "Take photo"));
    assert!(until(|| shows(ui, t("使用这张照片", "Use this photo"))));
    cam.shot(variant, "12-apply-material-photo");
    click(ui, t("使用这张照片", "Use this photo"));
    cam.shot(variant, "13-apply-review");
    click(ui, t("我已阅读并同意", "I have read and agree"));
    click(ui, t("提交", "Submit"));
    assert!(until(|| shows(
        ui,
        t(
            "请取走回执，凭回执可查询办理进度",
            "Please take your receipt; scan it here to check progress"
        )
    )));
    cam.shot(variant, "14-apply-submitted");
    click(ui, t("完成", "Done"));
    enter(ui, variant);

    click(ui, t("取号", "Queue ticket"));
    dock(ui, rig, t("放置居民身份证", "Place resident ID card"));
    click(ui, t("继续", "Continue"));
    cam.shot(variant, "15-ticket-categories");
    click(ui, t("综合受理", "General services"));
    assert!(until(|| ui.with_kiosk(|k| matches!(
        k.ticket().map(|t| &t.step),
        Some(hallkiosk::flows::ticket::TicketStep::Issued { print: Some(_), .. })
    ))));
    cam.shot(variant, "16-ticket-issued");
    click(ui, t("完成", "Done"));
    enter(ui, variant);

    click(ui, t("查询进度", "Check progress"));
    cam.shot(variant, "17-progress-waiting");
    dock(ui, rig, t("放置居民身份证", "Place resident ID card"));
    assert!(until(|| ui.with_kiosk(|k| matches!(
        k.progress(),
        Some(hallkiosk::flows::progress::ProgressStep::Found(_))
    ))));
    cam.shot(variant, "18-progress-found");
    click(ui, t("结束办理", "Finish"));
    enter(ui, variant);

    click(ui, t("评价", "Rate a service"));
    cam.shot(variant, "19-rate-levels");
    click(ui, t("不满意", "Dissatisfied"));
    cam.shot(variant, "20-rate-reason");
    click(ui, t("等待时间长", "Long wait"));
    assert!(until(|| shows(
        ui,
        t("感谢您的评价", "Thank you for your rating")
    )));
    cam.shot(variant, "21-rate-thanks");
    click(ui, t("完成", "Done"));
    enter(ui, variant);

    // The idle countdown and the card-removed question.
    click(ui, t("办事", "Apply"));
    dock(ui, rig, t("放置居民身份证", "Place resident ID card"));
    click(ui, t("继续", "Continue"));
    dock(ui, rig, t("移开证件", "Remove card"));
    cam.shot(variant, "22-card-removed");
    click(ui, t("继续办理", "Continue"));
    pass(if variant == "elder" { 121_000 } else { 61_000 });
    cam.shot(variant, "23-idle-countdown");
    click(ui, t("结束办理", "Finish"));
    enter(ui, variant);

    click(ui, t("终端编号 T-1", "Kiosk T-1"));
    cam.shot(variant, "24-maintenance-pin");
    for d in hallkiosk::shared::config::DEV_ADMIN_PIN.chars() {
        click(ui, &d.to_string());
    }
    click(ui, t("确定", "OK"));
    assert!(until(|| ui.with_kiosk(|k| k
        .maintenance()
        .is_some_and(|m| m.stats.is_some()))));
    cam.shot(variant, "25-maintenance");
    click(ui, t("首页", "Home"));
}

#[test]
fn every_screen_in_chinese_english_and_elder_mode() {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(Screens {
        window: window.clone(),
    }))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = Some(dir.path().to_path_buf());
    config.kiosk.id = hallkiosk::shared::config::KioskId("T-1".into());
    config.kiosk.hall_name = "测试政务服务大厅".into();
    config.kiosk.hall_name_en = "Test Government Service Hall".into();
    let mut running = hallkiosk::kiosk::app::start_with_clock(
        &config,
        Catalog::bundled().unwrap(),
        std::sync::Arc::new(|| "2026-11-22".to_string()),
    )
    .unwrap();
    running.start_devices().unwrap();
    let ui = &running.ui;
    let rig = running.rig().expect("the dev kiosk's simulators");
    // UX_SCREENS_SIZE=1280x800 (or 768x1366: portrait) renders another panel size,
    // UX_SCREENS_VARIANTS=elder,en fewer variants (to look at one mode; scripts/ux-screens uses
    // neither).
    let (w, h) = std::env::var("UX_SCREENS_SIZE")
        .ok()
        .and_then(|s| {
            let (w, h) = s.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .unwrap_or((1920, 1080));
    ui.window()
        .window()
        .set_size(slint::PhysicalSize::new(w, h));
    ui.window().show().unwrap();
    pass(50);
    // The services open the simulators and report the printer's first status.
    assert!(until(|| ui.device_events() > 0), "no printer status");
    let mut cam = Camera {
        window,
        app: ui.window().as_weak(),
        taken: Vec::new(),
    };
    let variants: Vec<String> = std::env::var("UX_SCREENS_VARIANTS")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_else(|_| vec!["zh".into(), "en".into(), "elder".into()]);
    for variant in &variants {
        walk(ui, rig, &mut cam, variant);
    }
    assert_eq!(cam.taken.len(), variants.len() * 25);
    println!("{} screenshots in {}", cam.taken.len(), out_dir().display());
}
