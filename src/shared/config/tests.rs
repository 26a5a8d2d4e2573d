//! The configuration's unit tests: defaults, validation errors with file/line/field, the dock.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("kiosk.toml"))
}

#[test]
fn an_empty_file_is_the_embedded_defaults() {
    assert_eq!(parse("").unwrap(), Config::default());
    assert!(Config::default().show_dev_dock());
}

#[test]
fn the_example_file_parses_and_uses_real_devices() {
    let c = parse(EXAMPLE).unwrap();
    assert_eq!(c.kiosk.orientation, Orientation::Portrait);
    assert!(!c.all_devices_simulated());
    assert!(!c.show_dev_dock(), "the dock is only for simulated devices");
    assert!(c.platform.url.is_some());
    assert_eq!(
        c.voice.quiet_hours.map(|q| q.to_string()).as_deref(),
        Some("22:00-07:00")
    );
}

#[test]
fn a_wrong_value_names_line_and_field() {
    let text = "[kiosk]\nid = \"K-1\"\n\n[timeouts]\nidle_secs = 2\n";
    match parse(text).unwrap_err() {
        ConfigError::Invalid {
            line,
            field,
            message,
            ..
        } => {
            assert_eq!(line, 5);
            assert_eq!(field, "timeouts.idle_secs");
            assert!(message.contains("5 to 3600"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_field_and_a_bad_enum_are_errors() {
    let e = parse("[kiosk]\nlocale = \"fr\"\n").unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("kiosk.locale"), "{e}");
    let e = parse("[kiosk]\nhallname = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") && e.contains("unknown field"), "{e}");
    let e = parse("[devices]\nprinter = \"tcp:printer\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("devices.printer") && e.contains("HOST:PORT"),
        "{e}"
    );
}

#[test]
fn a_syntax_error_names_the_line() {
    let e = parse("[kiosk]\nid = \"K-1\nlocale = \"en\"\n").unwrap_err();
    match e {
        ConfigError::Invalid { line, .. } => assert!(line == 2 || line == 3, "{line}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_ids_and_urls_are_refused() {
    assert!(parse("[kiosk]\nid = \"has space\"\n").is_err());
    assert!(parse("[platform]\nurl = \"ftp://x\"\n").is_err());
    assert!(parse("[platform]\nurl = \"https://platform.example\"\n").is_ok());
    assert!(parse("[timeouts]\nelder_factor = 9.0\n").is_err());
}

#[test]
fn the_dock_hides_when_any_device_is_real() {
    let c = parse("[devices]\nidcard = \"/dev/ttyUSB0\"\n").unwrap();
    assert_eq!(c.devices.printer_profile, PrinterProfileName::Generic80);
    let p = parse("[devices]\nprinter_profile = \"generic-58mm\"\n").unwrap();
    assert_eq!(p.devices.printer_profile.profile().width_dots, 384);
    let bad = parse("[devices]\nprinter_profile = \"a4-laser\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("devices.printer_profile") && bad.contains("generic-80mm"),
        "{bad}"
    );
    assert!(!c.show_dev_dock());
}

#[test]
fn load_reports_a_missing_file() {
    let e = Config::load(Some(Path::new("/nonexistent/hallkiosk.toml"))).unwrap_err();
    assert!(matches!(e, ConfigError::Unreadable { .. }));
}

#[test]
fn the_platform_url_is_https_except_to_loopback() {
    for ok in [
        "https://platform.example",
        "https://10.0.0.5:8443/base",
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "http://localhost:3000/x",
        "http://[::1]:8080",
    ] {
        assert!(PlatformUrl::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://platform.example",
        "http://10.0.0.5",
        "http://128.0.0.1",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
        "http://[::2]:80",
        "http://user@platform.example",
        "ftp://x",
        "https://",
        "platform.example",
    ] {
        assert!(PlatformUrl::parse(bad).is_err(), "{bad}");
    }
    let e = parse("[platform]\nurl = \"http://zwfw.example\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("platform.url") && e.contains("https://"), "{e}");
}

#[test]
fn retired_admin_keys_are_refused_with_what_replaces_them() {
    let e = parse("[hall]\nadmin_pin_sha256 = \"8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 2")
            && e.contains("hallkiosk admin hash-pin")
            && e.contains("admin_pin_argon2"),
        "{e}"
    );
    let e = parse("[hall]\nadmin_cards_sha256 = []\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("admin_cards_hmac"), "{e}");
    let e = parse("[hall]\nadmin_pin_argon2 = \"$argon2i$v=19$m=19456,t=2,p=1$Rklrb09tQ1lQU09RVHllQQ$mQ7+MTiCaqo0oFbkidHHlND4fn1AKWfgNRuM1wW32Vg\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("argon2id"), "{e}");
    let c = parse(&format!(
        "[hall]\nadmin_pin_argon2 = \"{DEV_ADMIN_PIN_ARGON2}\"\n[devices]\nprinter = \"tcp:127.0.0.1:9100\"\n"
    ))
    .unwrap();
    assert_eq!(c.admin_pin_hash(), Some(DEV_ADMIN_PIN_ARGON2));
    // No PIN configured: the dev PIN only while every device is simulated.
    assert_eq!(
        Config::default().admin_pin_hash(),
        Some(DEV_ADMIN_PIN_ARGON2)
    );
    let real = parse("[devices]\nprinter = \"tcp:127.0.0.1:9100\"\n").unwrap();
    assert_eq!(real.admin_pin_hash(), None);
}

#[test]
fn retention_has_defaults_and_bounds() {
    let r = Config::default().retention;
    assert_eq!(r.rejected_payload_days.0, 30);
    assert_eq!(r.final_states, vec!["completed", "refused"]);
    let c = parse("[retention]\nreceipt_image_days = 2\n").unwrap();
    assert_eq!(c.retention.receipt_image_days.0, 2);
    assert!(parse("[retention]\nprint_ledger_days = 0\n").is_err());
}

#[test]
fn a_queue_category_names_its_pictogram_from_the_kiosks_set() {
    let c = parse(
        "[hall]\nqueue_categories = [\n  { code = \"A\", zh = \"综合受理\", en = \"General\", pictogram = \"general\" },\n  { code = \"G\", zh = \"公积金\", en = \"Housing fund\" },\n]\n",
    )
    .unwrap();
    let pictograms: Vec<_> = c
        .hall
        .queue_categories
        .iter()
        .map(|q| q.pictogram)
        .collect();
    assert_eq!(pictograms, vec![Some(QueuePictogram::General), None]);
    let e = parse(
        "[hall]\nqueue_categories = [{ code = \"A\", zh = \"综合受理\", en = \"General\", pictogram = \"rocket\" }]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("rocket")
            && e.contains("general")
            && e.contains("business")
            && e.contains("line 2"),
        "{e}"
    );
    assert!(
        parse(EXAMPLE)
            .unwrap()
            .hall
            .queue_categories
            .iter()
            .all(|q| q.pictogram.is_some()),
        "the example shows every way to set one"
    );
}
