//! `scripts/provision` into a temporary root: the composed config passes the kiosk's own check and
//! loads with every value; credentials are private; the outbox key survives a second run; a bad
//! value installs nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn provision(root: &Path, args: &[&str]) -> Output {
    Command::new("scripts/provision")
        .arg("--root")
        .arg(root)
        .args(args)
        .env("HALLKIOSK", env!("CARGO_BIN_EXE_hallkiosk"))
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn provisions_a_kiosk_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "kiosk-token-abc\n").unwrap();
    let devices = dir.path().join("hw.toml");
    std::fs::write(
        &devices,
        "[devices]\nidcard = \"serial:/dev/hallkiosk-idcard@115200\"\nscanner = \"serial:/dev/hallkiosk-scanner\"\n\
         printer = \"usblp:/dev/hallkiosk-printer\"\ncamera = \"v4l2:/dev/hallkiosk-camera\"\n\n\
         [scanner]\nsuffix = \"crlf\"\ntrigger = \"gm\"\n",
    )
    .unwrap();
    let args = [
        "--kiosk-id",
        "BJ-DC-0007",
        "--hall",
        "东城区\"政务\"服务中心",
        "--hall-en",
        "Dongcheng Service Center",
        "--orientation",
        "portrait",
        "--platform-url",
        "https://platform.example",
        "--token-file",
        token.to_str().unwrap(),
        "--devices",
        devices.to_str().unwrap(),
        "--touch-matrix",
        "0 1 0 -1 0 1",
    ];
    let out = provision(&root, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = root.join("etc/hallkiosk/config.toml");
    let shown = Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
        .args(["--config", config.to_str().unwrap(), "config", "show"])
        .output()
        .unwrap();
    assert!(shown.status.success());
    let shown = String::from_utf8(shown.stdout).unwrap();
    for expected in [
        "id = \"BJ-DC-0007\"",
        "hall_name = '东城区\"政务\"服务中心'",
        "orientation = \"portrait\"",
        "url = \"https://platform.example\"",
        "scanner = \"serial:/dev/hallkiosk-scanner\"",
        "trigger = \"gm\"",
        "suffix = \"crlf\"",
    ] {
        assert!(shown.contains(expected), "{expected} not in {shown}");
    }
    let creds = root.join("etc/hallkiosk/credentials");
    assert_eq!(mode(&creds), 0o700);
    assert_eq!(mode(&creds.join("platform-token")), 0o600);
    assert_eq!(mode(&creds.join("outbox-key")), 0o600);
    let key = std::fs::read(creds.join("outbox-key")).unwrap();
    assert_eq!(key.len(), 32);
    let touch =
        std::fs::read_to_string(root.join("etc/udev/rules.d/61-hallkiosk-touch.rules")).unwrap();
    assert!(touch.contains("LIBINPUT_CALIBRATION_MATRIX}=\"0 1 0 -1 0 1\""));

    // Again: same files, same key.
    let before = std::fs::read(&config).unwrap();
    assert!(provision(&root, &args).status.success());
    assert_eq!(std::fs::read(&config).unwrap(), before);
    assert_eq!(std::fs::read(creds.join("outbox-key")).unwrap(), key);
}

#[test]
fn a_bad_value_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["--kiosk-id", "K-1", "--hall", "x"];
    for (extra, says) in [
        (&["--kiosk-id", "bad id!"][..], "kiosk.id"),
        (&["--orientation", "sideways"][..], "kiosk.orientation"),
        (&["--touch-matrix", "1 0 0"][..], "six numbers"),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let out = provision(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}"
        );
        assert!(
            !dir.path().join("etc").exists(),
            "{args:?} installed something"
        );
    }
    let out = provision(dir.path(), &["--hall", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_admin_pin_and_cards_are_provisioned_as_hashes_only() {
    use hallkiosk::shared::admin::{verify_pin, CardKey};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let pin = dir.path().join("pin");
    std::fs::write(&pin, "135790\n").unwrap();
    let cards = dir.path().join("cards");
    std::fs::write(
        &cards,
        "# technicians\n11010119900307901x\n\n110101199003079016\n",
    )
    .unwrap();
    let args = [
        "--kiosk-id",
        "K-1",
        "--hall",
        "x",
        "--admin-pin-file",
        pin.to_str().unwrap(),
        "--admin-cards-file",
        cards.to_str().unwrap(),
    ];
    let out = provision(&root, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config_file = root.join("etc/hallkiosk/config.toml");
    let text = std::fs::read_to_string(&config_file).unwrap();
    assert!(
        !text.contains("135790") && !text.contains("110101"),
        "{text}"
    );
    let config = hallkiosk::shared::config::Config::load(Some(&config_file))
        .unwrap()
        .0;
    let phc = &config.hall.admin_pin_argon2.as_ref().unwrap().0;
    assert!(verify_pin(phc, "135790") && !verify_pin(phc, "135791"));
    let key_file = root.join("etc/hallkiosk/credentials/admin-card-key");
    assert_eq!(mode(&key_file), 0o600);
    let key = CardKey::read(&key_file).unwrap();
    let hashes: Vec<&str> = config
        .hall
        .admin_cards_hmac
        .iter()
        .map(|h| h.0.as_str())
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(key.matches(hashes[0], "11010119900307901X"));
    assert!(key.matches(hashes[1], "110101199003079016"));
    // A second run keeps the card key, so the cards hashed under it stay valid.
    let before = std::fs::read(&key_file).unwrap();
    assert!(provision(&root, &args).status.success());
    assert_eq!(std::fs::read(&key_file).unwrap(), before);
}
