//! Kiosk configuration: one TOML file, or embedded defaults when there is none.
//!
//! Lookup order: `--config FILE`; else `/etc/hallkiosk/config.toml` when it exists; else the embedded
//! defaults (simulated devices with the dev dock, a local data directory, no platform, zh_CN).
//! Every field has a default, so a kiosk's file names only what differs. An invalid file is an
//! error that names the file, the line and the field; the kiosk never starts on a half-read file.

use hallkiosk_drivers::event::DeviceKind;
use hallkiosk_drivers::transport::DeviceAddress;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a kiosk image puts its configuration.
pub const SYSTEM_CONFIG: &str = "/etc/hallkiosk/config.toml";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub kiosk: KioskSection,
    pub timeouts: Timeouts,
    pub storage: Storage,
    pub devices: Devices,
    pub scanner: ScannerSection,
    pub platform: Platform,
    pub catalog: CatalogSection,
    pub hall: HallSection,
    pub retention: Retention,
    pub voice: VoiceSection,
}

/// The hall's queue categories and who may open the maintenance screen.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HallSection {
    /// Business categories for queue tickets (取号), each with its letter.
    pub queue_categories: Vec<QueueCategory>,
    /// The maintenance PIN as an Argon2id PHC string with its own salt (`hallkiosk admin
    /// hash-pin`); none: no PIN (the dev dock's kiosk uses 246810, [`DEV_ADMIN_PIN_ARGON2`]).
    pub admin_pin_argon2: Option<PinHash>,
    /// HMAC-SHA-256 (hex) of the ID numbers of technicians whose card opens the maintenance
    /// screen, under the provisioned admin-card key (`hallkiosk admin hash-card`).
    pub admin_cards_hmac: Vec<Sha256Hex>,
    /// The admin-card key (32+ bytes, mode 0600). Default: the systemd credential
    /// `admin-card-key`, else `admin-card.key` in the data directory.
    pub admin_card_key_file: Option<PathBuf>,
    /// Refused: an unsalted SHA-256 of a 6-digit PIN falls instantly (see `admin_pin_argon2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_pin_sha256: Option<Retired<PinSha256>>,
    /// Refused: SHA-256 of an ID number reveals it (see `admin_cards_hmac`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_cards_sha256: Option<Retired<CardsSha256>>,
}

/// One queue category: `{ code = "A", zh = "综合受理", en = "General services", pictogram = "general" }`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QueueCategory {
    pub code: QueueCode,
    pub zh: String,
    pub en: String,
    /// The picture on its 取号 tile, from the kiosk's set; none: the words and the letter alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pictogram: Option<QueuePictogram>,
}

/// The pictograms a queue category can show (ui/icons, Tabler Icons): the kinds of business a
/// service hall's windows do. A name outside this set is a configuration error that lists them.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum QueuePictogram {
    /// 综合受理: a clipboard with a list.
    General,
    /// 社保医保: a heart with a handshake.
    Insurance,
    /// 税务: a receipt with a percent sign.
    Tax,
    /// 不动产登记: a house.
    Property,
    /// 公安户籍, 证件: an identity card.
    Identity,
    /// 企业开办: a briefcase.
    Business,
}

/// A queue category's letter: one ASCII capital.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueueCode(pub String);

impl<'de> Deserialize<'de> for QueueCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() == 1 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(QueueCode(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "a queue category code is one capital letter A–Z, not {s:?}"
            )))
        }
    }
}

/// A SHA-256-sized digest (here an HMAC-SHA-256) in lower-case hex (64 characters).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Sha256Hex(pub String);

impl<'de> Deserialize<'de> for Sha256Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?.to_ascii_lowercase();
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Sha256Hex(s))
        } else {
            Err(serde::de::Error::custom(
                "expected an HMAC-SHA-256: 64 hex digits (from `hallkiosk admin hash-card`)",
            ))
        }
    }
}

impl Default for HallSection {
    fn default() -> Self {
        use QueuePictogram as P;
        let c = |code: &str, zh: &str, en: &str, pictogram| QueueCategory {
            code: QueueCode(code.into()),
            zh: zh.into(),
            en: en.into(),
            pictogram: Some(pictogram),
        };
        HallSection {
            queue_categories: vec![
                c("A", "综合受理", "General services", P::General),
                c(
                    "B",
                    "社保医保",
                    "Social and medical insurance",
                    P::Insurance,
                ),
                c("C", "税务", "Taxes", P::Tax),
                c("D", "不动产登记", "Real estate registration", P::Property),
                c(
                    "E",
                    "公安户籍",
                    "Household registration and IDs",
                    P::Identity,
                ),
                c("F", "企业开办", "Starting a business", P::Business),
            ],
            admin_pin_argon2: None,
            admin_cards_hmac: Vec::new(),
            admin_card_key_file: None,
            admin_pin_sha256: None,
            admin_cards_sha256: None,
        }
    }
}

/// The maintenance PIN of the dev dock's kiosk (all devices simulated), documented in README.
pub const DEV_ADMIN_PIN: &str = "246810";
/// [`DEV_ADMIN_PIN`] as the embedded defaults store it: an Argon2id PHC string like any kiosk's,
/// checked the same way (the PIN itself is in no comparison).
pub const DEV_ADMIN_PIN_ARGON2: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Rklrb09tQ1lQU09RVHllQQ$mQ7+MTiCaqo0oFbkidHHlND4fn1AKWfgNRuM1wW32Vg";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KioskSection {
    /// Unique per kiosk; printed on receipts and sent in heartbeats.
    pub id: KioskId,
    pub hall_name: String,
    pub hall_name_en: String,
    /// The language a session starts in; citizens can switch.
    pub locale: Locale,
    pub orientation: Orientation,
    /// Full screen without decorations (a kiosk); a window otherwise (a desktop).
    pub fullscreen: bool,
    /// Show the dev dock. Only honoured while every device is simulated.
    pub dev_dock: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Seconds without a touch before the "need more time?" countdown.
    pub idle_secs: Seconds,
    /// Length of that countdown before the session is wiped.
    pub countdown_secs: Seconds,
    /// Elder mode multiplies both by this factor.
    pub elder_factor: Factor,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// Database, cached catalog and key files. Default: `$XDG_DATA_HOME/hallkiosk` or
    /// `~/.local/share/hallkiosk`; kiosk images set `/var/lib/hallkiosk`.
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Devices {
    pub idcard: DeviceAddress,
    pub scanner: DeviceAddress,
    pub printer: DeviceAddress,
    pub camera: DeviceAddress,
    /// The receipt printer's model family: paper width, Chinese mode, native QR, cut.
    pub printer_profile: PrinterProfileName,
}

/// The printer profiles the drivers know (`hallkiosk_drivers::printer::receipt::Profile`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum PrinterProfileName {
    #[default]
    #[serde(rename = "generic-80mm")]
    Generic80,
    #[serde(rename = "generic-58mm")]
    Generic58,
    #[serde(rename = "epson-80mm")]
    Epson80,
}

impl PrinterProfileName {
    pub fn profile(self) -> hallkiosk_drivers::printer::receipt::Profile {
        use hallkiosk_drivers::printer::receipt::Profile;
        match self {
            PrinterProfileName::Generic80 => Profile::generic_80mm(),
            PrinterProfileName::Generic58 => Profile::generic_58mm(),
            PrinterProfileName::Epson80 => Profile::epson_80mm(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Platform {
    /// Base URL of the platform's sync API (the client adds `/v1/...`); none means every submission
    /// queues offline.
    pub url: Option<PlatformUrl>,
    /// The kiosk's bearer token. Default: the systemd credential `platform-token`, else
    /// `platform.token` in the data directory.
    pub token_file: Option<PathBuf>,
    /// The CA certificate(s) (PEM) of a platform behind a private PKI: set, only these are
    /// trusted (the public roots are not).
    pub ca_file: Option<PathBuf>,
    /// Mutual TLS: the kiosk's certificate and key (PEM), both or neither.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Submissions per request.
    pub batch_size: Ranged<1, 200>,
    /// Per-request timeout.
    pub request_timeout_secs: Ranged<1, 300>,
    /// Full-jitter backoff: a retry waits random(0, min(cap, base·2^attempt)).
    pub backoff_base_ms: Ranged<10, 600_000>,
    pub backoff_cap_secs: Ranged<1, 86_400>,
    /// How often the heartbeat goes out, and how often status changes and the catalog are pulled.
    pub heartbeat_secs: Ranged<5, 3600>,
    pub pull_secs: Ranged<5, 86_400>,
    /// How often the daemon looks for newly queued submissions.
    pub poll_ms: Ranged<50, 60_000>,
    /// Largest response body the daemon reads (MiB); a longer one is an error, not read.
    pub max_response_mib: Ranged<1, 256>,
    /// Largest update bundle the daemon fetches into the drop directory (MiB); a bigger offer is
    /// an error, not fetched. 0: no updates are fetched.
    pub max_update_mib: Ranged<0, 16384>,
}

impl Default for Platform {
    fn default() -> Self {
        Platform {
            url: None,
            token_file: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            batch_size: Ranged(50),
            request_timeout_secs: Ranged(15),
            backoff_base_ms: Ranged(1000),
            backoff_cap_secs: Ranged(300),
            heartbeat_secs: Ranged(60),
            pull_secs: Ranged(60),
            poll_ms: Ranged(1000),
            max_response_mib: Ranged(16),
            max_update_mib: Ranged(1536),
        }
    }
}

/// How the QR scanner frames its scans and is triggered (serial/CDC scanners), and whether the
/// camera reads codes too.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScannerSection {
    /// Bytes before each scan: "none", "cr", "lf", "crlf", "tab" or hex such as "02".
    pub prefix: Affix,
    /// Bytes that end a scan; "none" ends it when the line goes quiet.
    pub suffix: Affix,
    /// "continuous", "honeywell" (SYN T CR) or "gm" (GM65-style register write).
    pub trigger: TriggerName,
    /// The same code read again within this time is one scan.
    pub repeat_ms: Ranged<0, 60000>,
    /// Decode codes from the camera's live frames as well (camera must be v4l2:PATH).
    pub camera_reads_codes: bool,
}

impl Default for ScannerSection {
    fn default() -> Self {
        ScannerSection {
            prefix: Affix("none".into()),
            suffix: Affix("cr".into()),
            trigger: TriggerName("continuous".into()),
            repeat_ms: Ranged(1500),
            camera_reads_codes: false,
        }
    }
}

/// A scanner prefix/suffix as written (`cr`, `crlf`, hex …), checked when the config is read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Affix(pub String);

impl Affix {
    pub fn bytes(&self) -> Vec<u8> {
        hallkiosk_drivers::scanner::serial::parse_affix(&self.0).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Affix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        hallkiosk_drivers::scanner::serial::parse_affix(&s).map_err(serde::de::Error::custom)?;
        Ok(Affix(s))
    }
}

/// A scanner trigger mode by name, checked when the config is read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TriggerName(pub String);

impl ScannerSection {
    /// The serial framing these settings describe.
    pub fn framing(&self) -> hallkiosk_drivers::scanner::serial::Framing {
        hallkiosk_drivers::scanner::serial::Framing {
            prefix: self.prefix.bytes(),
            suffix: self.suffix.bytes(),
            ..Default::default()
        }
    }
}

impl TriggerName {
    pub fn trigger(&self) -> hallkiosk_drivers::scanner::serial::Trigger {
        hallkiosk_drivers::scanner::serial::Trigger::parse(&self.0)
            .unwrap_or(hallkiosk_drivers::scanner::serial::Trigger::Continuous)
    }
}

impl<'de> Deserialize<'de> for TriggerName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match hallkiosk_drivers::scanner::serial::Trigger::parse(&s) {
            Some(_) => Ok(TriggerName(s)),
            None => Err(serde::de::Error::custom(format!(
                "`{s}` is not a trigger mode: use continuous, honeywell or gm"
            ))),
        }
    }
}

/// A whole number from LO to HI.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Ranged<const LO: u64, const HI: u64>(pub u64);

impl<'de, const LO: u64, const HI: u64> Deserialize<'de> for Ranged<LO, HI> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if v >= 0 && (LO..=HI).contains(&(v as u64)) {
            Ok(Ranged(v as u64))
        } else {
            Err(serde::de::Error::custom(format!(
                "{v} is out of range: use {LO} to {HI}"
            )))
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogSection {
    /// A catalog file to use instead of the bundled one (a broken file stops the kiosk).
    pub file: Option<PathBuf>,
}

impl Default for KioskSection {
    fn default() -> Self {
        KioskSection {
            id: KioskId("DEV-0001".into()),
            hall_name: "开发测试政务服务大厅".into(),
            hall_name_en: "Development Government Service Hall".into(),
            locale: Locale::ZhCn,
            orientation: Orientation::Landscape,
            fullscreen: false,
            dev_dock: true,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            idle_secs: Seconds(60),
            countdown_secs: Seconds(20),
            elder_factor: Factor(2.0),
        }
    }
}

impl Default for Devices {
    fn default() -> Self {
        Devices {
            idcard: DeviceAddress::Sim,
            scanner: DeviceAddress::Sim,
            printer: DeviceAddress::Sim,
            camera: DeviceAddress::Sim,
            printer_profile: PrinterProfileName::default(),
        }
    }
}

impl Devices {
    /// Where `device` is.
    pub fn address(&self, device: DeviceKind) -> &DeviceAddress {
        match device {
            DeviceKind::IdCardReader => &self.idcard,
            DeviceKind::Scanner => &self.scanner,
            DeviceKind::Printer => &self.printer,
            DeviceKind::Camera => &self.camera,
        }
    }

    pub fn address_mut(&mut self, device: DeviceKind) -> &mut DeviceAddress {
        match device {
            DeviceKind::IdCardReader => &mut self.idcard,
            DeviceKind::Scanner => &mut self.scanner,
            DeviceKind::Printer => &mut self.printer,
            DeviceKind::Camera => &mut self.camera,
        }
    }
}

impl Config {
    /// Whether every device is simulated, which is when the dev dock may be shown.
    pub fn all_devices_simulated(&self) -> bool {
        DeviceKind::ALL
            .iter()
            .all(|&d| self.devices.address(d).is_sim())
    }

    /// Whether any device is simulated (the kiosk then starts the simulators).
    pub fn any_device_simulated(&self) -> bool {
        DeviceKind::ALL
            .iter()
            .any(|&d| self.devices.address(d).is_sim())
    }

    pub fn show_dev_dock(&self) -> bool {
        self.kiosk.dev_dock && self.all_devices_simulated()
    }

    /// The maintenance PIN's hash in force: the configured one, or with every device simulated
    /// and none configured, the dev kiosk's ([`DEV_ADMIN_PIN_ARGON2`]); none: no PIN opens it.
    pub fn admin_pin_hash(&self) -> Option<&str> {
        match &self.hall.admin_pin_argon2 {
            Some(h) => Some(&h.0),
            None if self.all_devices_simulated() => Some(DEV_ADMIN_PIN_ARGON2),
            None => None,
        }
    }

    /// The data directory, resolving the default from the environment.
    pub fn data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.storage.data_dir {
            return dir.clone();
        }
        if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return PathBuf::from(xdg).join("hallkiosk");
        }
        match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".local/share/hallkiosk"),
            None => PathBuf::from("hallkiosk-data"),
        }
    }

    /// Parses a TOML document; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let de = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let (line, column) = inner
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or((0, 0));
            ConfigError::Invalid {
                file: origin.to_path_buf(),
                line,
                column,
                field: if field == "." { String::new() } else { field },
                message: inner.message().trim().to_string(),
            }
        })
    }

    /// Loads the configuration the way `hallkiosk run` does (see the module docs).
    pub fn load(explicit: Option<&Path>) -> Result<(Config, ConfigSource), ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(SYSTEM_CONFIG).exists() => PathBuf::from(SYSTEM_CONFIG),
            None => return Ok((Config::default(), ConfigSource::Embedded)),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Unreadable {
            file: path.clone(),
            reason: e.to_string(),
        })?;
        let config = Config::parse(&text, &path)?;
        Ok((config, ConfigSource::File(path)))
    }
}

/// Where the configuration in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    Embedded,
    File(PathBuf),
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Embedded => f.write_str("embedded defaults"),
            ConfigSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("cannot read config file {}: {reason}", file.display())]
    Unreadable { file: PathBuf, reason: String },
    #[error("invalid config file {}, line {line}, column {column}{}: {message}", file.display(), field_part(field))]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
}

fn field_part(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(", field `{field}`")
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A kiosk id: 1–32 characters of letters, digits and `-`, so it is safe on receipts and in URLs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KioskId(pub String);

impl<'de> Deserialize<'de> for KioskId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(KioskId(s))
        } else {
            Err(serde::de::Error::custom(
                "a kiosk id is 1–32 letters, digits or '-'",
            ))
        }
    }
}

impl fmt::Display for KioskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum Locale {
    #[serde(rename = "zh_CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    /// 1920×1080.
    Landscape,
    /// 1080×1920.
    Portrait,
}

impl Orientation {
    pub fn size(self) -> (u32, u32) {
        match self {
            Orientation::Landscape => (1920, 1080),
            Orientation::Portrait => (1080, 1920),
        }
    }
}

/// A timeout in seconds, 5 to 3600.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Seconds(pub u32);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if (5..=3600).contains(&v) {
            Ok(Seconds(v as u32))
        } else {
            Err(serde::de::Error::custom(format!(
                "{v} is out of range: a timeout is 5 to 3600 seconds"
            )))
        }
    }
}

/// The elder-mode timeout factor, 1.0 to 5.0.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Factor(pub f64);

impl<'de> Deserialize<'de> for Factor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if (1.0..=5.0).contains(&v) {
            Ok(Factor(v))
        } else {
            Err(serde::de::Error::custom(format!(
                "{v} is out of range: the elder factor is 1.0 to 5.0"
            )))
        }
    }
}

/// An `https://` URL with a host; `http://` only to a loopback host (127.0.0.0/8, `[::1]`,
/// `localhost`), where nothing crosses a network.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlatformUrl(pub String);

impl PlatformUrl {
    pub fn parse(s: &str) -> Result<PlatformUrl, String> {
        let named = |r: &str| !r.is_empty() && !r.starts_with('/');
        if let Some(r) = s.strip_prefix("https://") {
            return if named(r) {
                Ok(PlatformUrl(s.to_string()))
            } else {
                Err("the platform URL names no host".into())
            };
        }
        let Some(r) = s.strip_prefix("http://") else {
            return Err("the platform URL starts with https:// (http:// only to loopback)".into());
        };
        let authority = r.split(['/', '?', '#']).next().unwrap_or("");
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if let Some(v6) = host.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            host.split(':').next().unwrap_or("")
        };
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            Ok(PlatformUrl(s.to_string()))
        } else {
            Err(format!(
                "the platform URL must be https:// (http:// sends the token and citizens' data in \
                 clear; it is allowed only to loopback: 127.0.0.0/8, [::1], localhost), not {host:?}"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for PlatformUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PlatformUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The example file shipped in `docs/config.example.toml`, kept here so a test can check it parses.
pub const EXAMPLE: &str = include_str!("../../docs/config.example.toml");

mod retention;
mod secrets;
pub use retention::Retention;
mod voice;
pub use secrets::{CardsSha256, PinHash, PinSha256, Retired, RetiredKey};
pub use voice::{QuietHours, VoiceSection};

#[cfg(test)]
mod tests;
