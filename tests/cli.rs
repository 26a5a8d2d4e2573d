//! The `hallkiosk` command line as a technician uses it: real processes, real files.

use std::process::{Command, Output};

fn hallkiosk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
        .args(args)
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("hallkiosk-cli-test"),
        )
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_invalid_config_names_file_line_and_field_and_the_kiosk_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(&file, "[kiosk]\nid = \"K-1\"\norientation = \"diagonal\"\n").unwrap();
    let path = file.to_str().unwrap();
    for args in [
        vec!["config", "check", "--config", path],
        vec!["run", "--config", path],
    ] {
        let out = hallkiosk(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(path) && err.contains("line 3") && err.contains("kiosk.orientation"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_missing_config_file_is_an_error_not_the_defaults() {
    let out = hallkiosk(&["config", "check", "--config", "/nonexistent/kiosk.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/kiosk.toml"));
}

#[test]
fn the_example_config_checks_and_shows() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.example.toml");
    let out = hallkiosk(&["config", "check", "--config", example]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("BJ-DC-0007"));
    let shown = hallkiosk(&["config", "show", "--config", example]);
    assert!(
        text(&shown.stdout).contains("printer = \"usblp:/dev/usb/lp0\""),
        "{}",
        text(&shown.stdout)
    );
}

#[test]
fn a_broken_catalog_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::write(
        &catalog,
        r#"{"version":"1","published":"x","themes":[],"items":[]}"#,
    )
    .unwrap();
    let out = hallkiosk(&["catalog", "check", catalog.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("catalog.json") && err.contains("no items"),
        "{err}"
    );

    // A kiosk configured with that catalog refuses to start, saying why.
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        format!("[catalog]\nfile = {:?}\n", catalog.to_str().unwrap()),
    )
    .unwrap();
    let out = hallkiosk(&["run", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no items"));
}

#[test]
fn catalog_search_finds_by_pinyin_initials() {
    let out = hallkiosk(&["catalog", "search", "sbk"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout)
            .lines()
            .next()
            .is_some_and(|l| l.contains("社会保障卡")),
        "{}",
        text(&out.stdout)
    );
    let out = hallkiosk(&["catalog", "check"]);
    let stdout = text(&out.stdout);
    let items: usize = stdout
        .split(", ")
        .nth(1)
        .and_then(|s| s.split(' ').next()?.parse().ok())
        .unwrap_or(0);
    assert!(out.status.success() && items >= 40, "{stdout}");
}

#[test]
fn without_a_display_the_kiosk_logs_and_says_why_it_cannot_start() {
    // JOURNAL_STREAM as under systemd, but no journal socket here: logs must still reach stderr.
    let out = Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
        .arg("run")
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("hallkiosk-cli-test"),
        )
        .env("JOURNAL_STREAM", "0:0")
        .env("RUST_LOG", "info")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("starting kiosk"), "{err}");
    assert!(err.contains("hallkiosk:"), "the reason is printed: {err}");
}

/// `hallkiosk ARGS` with `input` on standard input.
fn hallkiosk_with_input(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn admin_secrets_are_provisioned_as_hashes_and_the_old_sha256_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = hallkiosk_with_input(&["admin", "hash-pin"], "135790\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let phc = text(&out.stdout).trim().to_string();
    assert!(
        phc.starts_with("$argon2id$v=19$") && !phc.contains("135790"),
        "{phc}"
    );
    assert!(!hallkiosk_with_input(&["admin", "hash-pin"], "12ab\n")
        .status
        .success());
    let key = dir.path().join("admin-card.key");
    let out = hallkiosk(&["admin", "new-card-key", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let card = hallkiosk_with_input(
        &["admin", "hash-card", "--key", key.to_str().unwrap()],
        "11010119900307901X\n",
    );
    let card = text(&card.stdout).trim().to_string();
    assert_eq!(card.len(), 64);
    let file = dir.path().join("kiosk.toml");
    std::fs::write(
        &file,
        format!(
            "[hall]\nadmin_pin_argon2 = \"{phc}\"\nadmin_cards_hmac = [\"{card}\"]\nadmin_card_key_file = \"{}\"\n",
            key.display()
        ),
    )
    .unwrap();
    let out = hallkiosk(&["config", "check", "--config", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(
        &file,
        "[hall]\nadmin_pin_sha256 = \"8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92\"\n",
    )
    .unwrap();
    let out = hallkiosk(&["config", "check", "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("hallkiosk admin hash-pin"),
        "{err}"
    );
    std::fs::write(&file, "[platform]\nurl = \"http://zwfw.example\"\n").unwrap();
    let out = hallkiosk(&["config", "check", "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("https://"));
}

#[test]
fn outbox_purge_has_a_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(
        &file,
        format!("[storage]\ndata_dir = \"{}\"\n", dir.path().display()),
    )
    .unwrap();
    let receipts = dir.path().join("receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    let png = receipts.join("old.png");
    std::fs::write(&png, b"png").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&png)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH)
        .unwrap();
    let config = file.to_str().unwrap();
    let out = hallkiosk(&["outbox", "purge", "--dry-run", "--json", "--config", config]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["dry_run"].as_bool(), v["receipt_images"].as_u64()),
        (Some(true), Some(1))
    );
    assert!(png.exists());
    let out = hallkiosk(&["outbox", "purge", "--config", config]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("receipt images      1"));
    assert!(!png.exists());
}
