//! `scripts/provision` into a temporary root: the composed config passes the kiosk's own check and
//! loads with every value; credentials are sealed by the real `systemd-creds` to the root's host key
//! (not readable from the credential files alone, opened by the programs from
//! `$CREDENTIALS_DIRECTORY`); the outbox key survives a second run; the sync daemon's address
//! allow-list follows the platform URL; a bad value installs nothing.

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

/// `systemd-creds` as on the machine whose id is in the file `machine_id` (bound over
/// /etc/machine-id in a private mount namespace: systemd binds the host key file to the machine id)
/// with the host key in `secret`.
fn creds_on(machine_id: &Path, secret: &Path, args: &[&std::ffi::OsStr]) -> Output {
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount --bind \"$0\" /etc/machine-id && exec systemd-creds \"$@\"")
        .arg(machine_id)
        .args(args)
        .env("SYSTEMD_CREDENTIAL_SECRET", secret)
        .output()
        .expect("unshare and systemd-creds (Debian packages util-linux, systemd)")
}

/// `systemd-creds decrypt` of a sealed credential to standard output.
fn decrypt(machine_id: &Path, secret: &Path, cred: &Path, name: &str) -> Output {
    let name = format!("--name={name}");
    creds_on(
        machine_id,
        secret,
        &[
            "decrypt".as_ref(),
            name.as_ref(),
            cred.as_os_str(),
            "-".as_ref(),
        ],
    )
}

/// The plain bytes of a credential the provisioning of `root` sealed, opened as the kiosk of that
/// root would: its machine id, its host key.
fn unseal(root: &Path, name: &str) -> Vec<u8> {
    let out = decrypt(
        &root.join("etc/machine-id"),
        &root.join("var/lib/systemd/credential.secret"),
        &root.join(format!("etc/hallkiosk/credentials/{name}.cred")),
        name,
    );
    assert!(out.status.success(), "{out:?}");
    out.stdout
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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
        "--platform-allow",
        "192.0.2.10 2001:db8::/64",
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
    let mut names: Vec<String> = std::fs::read_dir(&creds)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "admin-card-key.cred",
            "outbox-key.cred",
            "platform-token.cred"
        ],
        "only sealed credentials, nothing in the clear"
    );
    for name in &names {
        assert_eq!(mode(&creds.join(name)), 0o600, "{name}");
    }
    assert_eq!(mode(&root.join("var/lib/systemd/credential.secret")), 0o400);
    let key = unseal(&root, "outbox-key");
    assert_eq!(key.len(), 32);
    assert_eq!(unseal(&root, "platform-token"), b"kiosk-token-abc\n");
    // The sealed files alone give nothing away: neither the key nor the token is in them, and
    // another machine's host key does not open them.
    let sealed_key = std::fs::read(creds.join("outbox-key.cred")).unwrap();
    assert!(!contains(&sealed_key, &key));
    assert!(!contains(
        &std::fs::read(creds.join("platform-token.cred")).unwrap(),
        b"kiosk-token-abc"
    ));
    // Another machine's host key, under this root's machine id: refused.
    let machine_id = root.join("etc/machine-id");
    let other = dir.path().join("other-machine.secret");
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "x").unwrap();
    let made = creds_on(
        &machine_id,
        &other,
        &[
            "encrypt".as_ref(),
            "--with-key=host".as_ref(),
            plain.as_os_str(),
            dir.path().join("x.cred").as_os_str(),
        ],
    );
    assert!(made.status.success(), "{made:?}");
    let refused = decrypt(
        &machine_id,
        &other,
        &creds.join("outbox-key.cred"),
        "outbox-key",
    );
    assert!(!refused.status.success() && refused.stdout.is_empty());
    // This root's host key (a copy: systemd discards a key of another machine) on a machine with
    // another id: refused.
    let copy = dir.path().join("copied.secret");
    std::fs::copy(root.join("var/lib/systemd/credential.secret"), &copy).unwrap();
    let other_id = dir.path().join("other-machine-id");
    std::fs::write(&other_id, "0123456789abcdef0123456789abcdef\n").unwrap();
    let refused = decrypt(
        &other_id,
        &copy,
        &creds.join("outbox-key.cred"),
        "outbox-key",
    );
    assert!(!refused.status.success() && refused.stdout.is_empty());
    // The root has its own machine id, which the host key is bound to.
    let id = std::fs::read_to_string(&machine_id).unwrap();
    assert!(
        id.trim().len() == 32 && id.trim().bytes().all(|b| b.is_ascii_hexdigit()),
        "{id:?}"
    );
    assert_ne!(
        id.trim(),
        std::fs::read_to_string("/etc/machine-id").unwrap().trim(),
        "the provisioning machine's id"
    );
    // The sync daemon may reach the platform and nothing else.
    let dropin = std::fs::read_to_string(
        root.join("etc/systemd/system/hallkiosk-sync.service.d/50-platform.conf"),
    )
    .unwrap();
    assert!(
        dropin.contains("[Service]\nIPAddressAllow=192.0.2.10 2001:db8::/64\n"),
        "{dropin}"
    );
    let touch =
        std::fs::read_to_string(root.join("etc/udev/rules.d/61-hallkiosk-touch.rules")).unwrap();
    assert!(touch.contains("LIBINPUT_CALIBRATION_MATRIX}=\"0 1 0 -1 0 1\""));

    // Again: same files, same sealed key and token (not sealed anew).
    let before = std::fs::read(&config).unwrap();
    let sealed_token = std::fs::read(creds.join("platform-token.cred")).unwrap();
    assert!(provision(&root, &args).status.success());
    assert_eq!(std::fs::read(&config).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&machine_id).unwrap(), id);
    assert_eq!(
        std::fs::read(creds.join("outbox-key.cred")).unwrap(),
        sealed_key
    );
    assert_eq!(
        std::fs::read(creds.join("platform-token.cred")).unwrap(),
        sealed_token
    );
    // A new token is sealed; the key stays.
    std::fs::write(&token, "kiosk-token-new\n").unwrap();
    assert!(provision(&root, &args).status.success());
    assert_eq!(unseal(&root, "platform-token"), b"kiosk-token-new\n");
    assert_eq!(unseal(&root, "outbox-key"), key);
}

/// What a unit's `LoadCredentialEncrypted=` gives the programs: the kiosk's commands and the sync
/// daemon read the key and the token from `$CREDENTIALS_DIRECTORY`, and refuse to run (naming
/// the credential) when the unit has credentials but not theirs, instead of making a key in the
/// clear.
#[test]
fn the_programs_read_the_sealed_credentials_and_name_a_missing_one() {
    use hallkiosk::outbox::crypto::{id_hex, PayloadKey};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "kiosk-token-abc\n").unwrap();
    let out = provision(
        &root,
        &[
            "--kiosk-id",
            "K-1",
            "--hall",
            "x",
            "--platform-url",
            "http://127.0.0.1:9",
            "--token-file",
            token.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    // As PID 1 does for a unit: decrypt into a private directory.
    let run_creds = dir.path().join("credentials");
    std::fs::create_dir(&run_creds).unwrap();
    let key = unseal(&root, "outbox-key");
    std::fs::write(run_creds.join("outbox-key"), &key).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndata_dir = \"{}\"\n[platform]\nurl = \"http://127.0.0.1:9\"\n",
            data.display()
        ),
    )
    .unwrap();
    let kiosk = |creds: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("CREDENTIALS_DIRECTORY", creds)
            .output()
            .unwrap()
    };
    let keys = kiosk(&run_creds, &["outbox", "keys"]);
    let text = String::from_utf8_lossy(&keys.stdout);
    let id = id_hex(&PayloadKey::from_bytes(key.as_slice().try_into().unwrap()).id());
    assert!(keys.status.success(), "{keys:?}");
    assert!(
        text.contains(&format!("current  {id}"))
            && text.contains(&run_creds.join("outbox-key").display().to_string()),
        "{text}"
    );
    assert!(!data.join("outbox.key").exists(), "a key file in the clear");
    // Under the units' UMask=0007 the database is the data group's to write (the kiosk UI and the
    // sync daemon are two users).
    std::fs::remove_file(data.join("outbox.db")).unwrap();
    let stats = Command::new("sh")
        .arg("-c")
        .arg("umask 0007 && exec \"$0\" --config \"$1\" outbox stats")
        .arg(env!("CARGO_BIN_EXE_hallkiosk"))
        .arg(&config)
        .env("CREDENTIALS_DIRECTORY", &run_creds)
        .output()
        .unwrap();
    assert!(stats.status.success(), "{stats:?}");
    assert_eq!(mode(&data.join("outbox.db")), 0o660);
    // A unit with credentials but without the outbox key: a clear error, no key made.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let keys = kiosk(&empty, &["outbox", "keys"]);
    assert!(!keys.status.success());
    assert!(
        String::from_utf8_lossy(&keys.stderr).contains("no outbox key credential"),
        "{keys:?}"
    );
    assert!(!data.join("outbox.key").exists(), "a key file in the clear");
    // The sync daemon without its token credential says which one.
    let sync = Command::new(env!("CARGO_BIN_EXE_hallkiosk-sync"))
        .arg("--config")
        .arg(&config)
        .env("CREDENTIALS_DIRECTORY", &run_creds)
        .output()
        .unwrap();
    assert!(!sync.status.success());
    assert!(
        String::from_utf8_lossy(&sync.stderr).contains("no platform token credential"),
        "{sync:?}"
    );
    // The sync daemon may reach 127.0.0.1 (and loopback) only.
    let dropin = std::fs::read_to_string(
        root.join("etc/systemd/system/hallkiosk-sync.service.d/50-platform.conf"),
    )
    .unwrap();
    assert!(dropin.contains("IPAddressAllow=127.0.0.1\n"), "{dropin}");
}

/// A kiosk provisioned before credentials were sealed: its plain outbox key, token and card key
/// are sealed as they are (queued data stays readable) and their plain files removed; the URL's
/// host name is resolved for the allow-list, and a run without a platform removes it.
#[test]
fn plain_credentials_of_an_older_provisioning_are_sealed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let creds = root.join("etc/hallkiosk/credentials");
    std::fs::create_dir_all(&creds).unwrap();
    let key = [7u8; 32];
    std::fs::write(creds.join("outbox-key"), key).unwrap();
    std::fs::write(creds.join("platform-token"), "old-token\n").unwrap();
    std::fs::write(creds.join("admin-card-key"), [9u8; 32]).unwrap();
    let base = ["--kiosk-id", "K-1", "--hall", "x"];
    let with_url: Vec<&str> = base
        .iter()
        .copied()
        .chain(["--platform-url", "http://localhost:8700/api"])
        .collect();
    let out = provision(&root, &with_url);
    assert!(out.status.success(), "{out:?}");
    for name in ["outbox-key", "platform-token", "admin-card-key"] {
        assert!(!creds.join(name).exists(), "{name} left in the clear");
    }
    assert_eq!(unseal(&root, "outbox-key"), key);
    assert_eq!(unseal(&root, "platform-token"), b"old-token\n");
    assert_eq!(unseal(&root, "admin-card-key"), [9u8; 32]);
    let dropin_file = root.join("etc/systemd/system/hallkiosk-sync.service.d/50-platform.conf");
    let dropin = std::fs::read_to_string(&dropin_file).unwrap();
    assert!(
        dropin.contains("IPAddressAllow=") && dropin.contains("127.0.0.1"),
        "{dropin}"
    );
    assert!(provision(&root, &base).status.success());
    assert!(!dropin_file.exists(), "allow-list kept without a platform");
    assert_eq!(unseal(&root, "outbox-key"), key);
    // Sealed credentials but the machine id they are bound to gone: refused before anything is
    // touched (a new id would make systemd discard the host key).
    let id = std::fs::read(root.join("etc/machine-id")).unwrap();
    std::fs::write(root.join("etc/machine-id"), "").unwrap();
    let out = provision(&root, &base);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is no machine id"),
        "{out:?}"
    );
    std::fs::write(root.join("etc/machine-id"), id).unwrap();
    assert_eq!(unseal(&root, "outbox-key"), key);
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
    let key_file = root.join("etc/hallkiosk/credentials/admin-card-key.cred");
    assert_eq!(mode(&key_file), 0o600);
    let plain = dir.path().join("admin-card-key");
    std::fs::write(&plain, unseal(&root, "admin-card-key")).unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o600)).unwrap();
    let key = CardKey::read(&plain).unwrap();
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
    let config = hallkiosk::shared::config::Config::load(Some(&config_file))
        .unwrap()
        .0;
    assert!(key.matches(&config.hall.admin_cards_hmac[0].0, "11010119900307901X"));
}
