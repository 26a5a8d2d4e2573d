//! Who may open the maintenance screen: the PIN, checked against an Argon2id PHC string with a
//! lockout that survives a restart, and technicians' cards, recognised by an HMAC of the ID number
//! under a provisioned key (the configuration then reveals neither the PIN nor any ID number).
//!
//! Lockout: after [`FREE_TRIES`] wrong PINs in a row the pad refuses every PIN for
//! [`FIRST_LOCK`]; each further wrong PIN doubles that (capped at [`MAX_LOCK`]); a right PIN
//! resets it. The count and the end of the lock are kept in `<data_dir>/admin-pin.lockout`, written
//! atomically, so a restart does not reset them. A file that cannot be read counts as a locked pad's.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// Wrong PINs allowed before the pad locks.
pub const FREE_TRIES: u32 = 5;
/// The first lock; each further wrong PIN doubles it.
pub const FIRST_LOCK_MS: i64 = 60_000;
pub const FIRST_LOCK: std::time::Duration = std::time::Duration::from_millis(FIRST_LOCK_MS as u64);
/// The longest lock.
pub const MAX_LOCK_MS: i64 = 24 * 3600 * 1000;
pub const MAX_LOCK: std::time::Duration = std::time::Duration::from_millis(MAX_LOCK_MS as u64);
/// The lockout file in the data directory.
pub const LOCKOUT_FILE: &str = "admin-pin.lockout";
/// The admin-card key: the systemd credential name, and the file in the data directory.
pub const CARD_KEY_CREDENTIAL: &str = "admin-card-key";
pub const CARD_KEY_FILE: &str = "admin-card.key";

/// Whether `s` is an Argon2id PHC string this kiosk can check.
pub fn check_phc(s: &str) -> Result<(), String> {
    let h = PasswordHash::new(s)
        .map_err(|e| format!("not a PHC string ({e}); make one with `hallkiosk admin hash-pin`"))?;
    if h.algorithm.as_str() != "argon2id" {
        return Err(format!(
            "the PIN hash must be argon2id, not {} (`hallkiosk admin hash-pin`)",
            h.algorithm
        ));
    }
    if h.salt.is_none() || h.hash.is_none() {
        return Err("the PIN hash has no salt or no hash".into());
    }
    Ok(())
}

/// A new Argon2id PHC string of `pin` with a fresh random salt (default parameters: 19 MiB, 2
/// passes, 1 lane — OWASP's recommendation).
pub fn hash_pin(pin: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(pin.trim().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `pin` matches the PHC string `phc` (false for a malformed string).
pub fn verify_pin(phc: &str, pin: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(pin.trim().as_bytes(), &h)
            .is_ok()
    })
}

/// What the PIN pad says to a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinVerdict {
    Open,
    Wrong,
    /// Not checked: the pad is locked for this many more seconds.
    Locked {
        secs: u64,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Lockout {
    failures: u32,
    locked_until_ms: i64,
}

/// The PIN pad's gate: the hash, the persisted lockout, and a clock (injectable for tests).
pub struct PinGate {
    hash: Option<String>,
    file: Option<PathBuf>,
    clock: Box<dyn Fn() -> i64 + Send>,
}

impl std::fmt::Debug for PinGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PinGate(pin set: {})", self.hash.is_some())
    }
}

impl PinGate {
    /// `hash`: the PHC string (none: no PIN opens); `file`: where the lockout is kept (none: in
    /// memory only, for tests of the flows).
    pub fn new(
        hash: Option<String>,
        file: Option<PathBuf>,
        clock: impl Fn() -> i64 + Send + 'static,
    ) -> PinGate {
        PinGate {
            hash,
            file,
            clock: Box::new(clock),
        }
    }

    /// The gate the configuration describes, with its lockout in the data directory.
    pub fn from_config(config: &crate::shared::config::Config) -> PinGate {
        PinGate::new(
            config.admin_pin_hash().map(str::to_string),
            Some(config.data_dir().join(LOCKOUT_FILE)),
            crate::shared::clock::now_ms,
        )
    }

    fn load(&self, memory: Lockout) -> Lockout {
        let Some(file) = &self.file else {
            return memory;
        };
        match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Lockout {
                // Damaged: as if the free tries were used up (the next wrong PIN locks).
                failures: FREE_TRIES - 1,
                locked_until_ms: 0,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lockout::default(),
            Err(_) => Lockout {
                failures: FREE_TRIES - 1,
                locked_until_ms: (self.clock)() + FIRST_LOCK_MS,
            },
        }
    }

    fn store(&self, l: Lockout) {
        let Some(file) = &self.file else {
            return;
        };
        let tmp = file.with_extension("lockout.tmp");
        let written = (|| {
            use std::io::Write;
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(&l).unwrap_or_default())?;
            f.sync_all()?;
            std::fs::rename(&tmp, file)
        })();
        if let Err(e) = written {
            tracing::error!(
                "cannot record the PIN pad's lockout in {}: {e}",
                file.display()
            );
        }
    }

    /// Checks a PIN (only when the pad is not locked) and records the outcome.
    fn check(&self, pin: &str, memory: &mut Lockout) -> PinVerdict {
        let now = (self.clock)();
        let mut l = self.load(*memory);
        if l.locked_until_ms > now {
            let secs = (l.locked_until_ms - now + 999) / 1000;
            return PinVerdict::Locked { secs: secs as u64 };
        }
        let ok = self.hash.as_deref().is_some_and(|h| verify_pin(h, pin));
        if ok {
            l = Lockout::default();
        } else {
            l.failures = l.failures.saturating_add(1);
            if l.failures >= FREE_TRIES {
                let doublings = (l.failures - FREE_TRIES).min(20);
                let lock = FIRST_LOCK_MS
                    .saturating_mul(1i64 << doublings)
                    .min(MAX_LOCK_MS);
                l.locked_until_ms = now + lock;
                tracing::warn!(
                    failures = l.failures,
                    "the PIN pad is locked after wrong PINs"
                );
            }
        }
        *memory = l;
        self.store(l);
        match (ok, l.locked_until_ms > now) {
            (true, _) => PinVerdict::Open,
            (false, true) => PinVerdict::Locked {
                secs: ((l.locked_until_ms - now + 999) / 1000) as u64,
            },
            (false, false) => PinVerdict::Wrong,
        }
    }
}

/// A PIN check the flows can hold and clone: the gate with its in-memory lockout (used when no
/// lockout file is kept).
#[derive(Clone)]
pub struct PinCheck(Arc<Mutex<(PinGate, Lockout)>>);

impl std::fmt::Debug for PinCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinCheck")
    }
}

impl Default for PinCheck {
    /// No PIN opens.
    fn default() -> Self {
        PinCheck::new(PinGate::new(None, None, || 0))
    }
}

impl PinCheck {
    pub fn new(gate: PinGate) -> PinCheck {
        PinCheck(Arc::new(Mutex::new((gate, Lockout::default()))))
    }

    pub fn check(&self, pin: &str) -> PinVerdict {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (gate, memory) = &mut *guard;
        gate.check(pin, memory)
    }
}

/// The admin-card key, zeroized when dropped.
#[derive(Clone)]
pub struct CardKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for CardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardKey(…)")
    }
}

impl CardKey {
    pub fn from_bytes(bytes: &[u8]) -> CardKey {
        CardKey(Zeroizing::new(bytes.to_vec()))
    }

    /// The key from `path` (at least 32 bytes; a file readable by group or others is refused).
    pub fn read(path: &Path) -> Result<CardKey, String> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "{} is readable by others; it must be 0600",
                path.display()
            ));
        }
        let bytes =
            Zeroizing::new(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?);
        if bytes.len() < 32 {
            return Err(format!("{} must hold at least 32 bytes", path.display()));
        }
        Ok(CardKey(bytes))
    }

    /// The configured key: `admin_card_key_file`, else the systemd credential, else the data
    /// directory's `admin-card.key`. `Ok(None)` when none exists and none was named.
    pub fn configured(config: &crate::shared::config::Config) -> Result<Option<CardKey>, String> {
        if let Some(p) = &config.hall.admin_card_key_file {
            return CardKey::read(p).map(Some);
        }
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            let cred = Path::new(&dir).join(CARD_KEY_CREDENTIAL);
            if cred.exists() {
                return CardKey::read(&cred).map(Some);
            }
        }
        let file = config.data_dir().join(CARD_KEY_FILE);
        if file.exists() {
            return CardKey::read(&file).map(Some);
        }
        Ok(None)
    }

    fn mac(&self, id_number: &str) -> hmac::Hmac<sha2::Sha256> {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"hallkiosk admin card v1\0");
        mac.update(id_number.trim().to_ascii_uppercase().as_bytes());
        mac
    }

    /// HMAC-SHA-256 of an ID number (trimmed, letters upper-cased) in hex, for the configuration.
    pub fn hash_card(&self, id_number: &str) -> String {
        use hmac::Mac;
        self.mac(id_number)
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `id_number`'s HMAC is `hex` (compared in constant time).
    pub fn matches(&self, hex: &str, id_number: &str) -> bool {
        use hmac::Mac;
        let Some(bytes) = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        self.mac(id_number).verify_slice(&bytes).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    #[test]
    fn pins_are_argon2id_with_their_own_salt() {
        let a = hash_pin("135790").unwrap();
        let b = hash_pin("135790").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a salt per hash");
        assert!(check_phc(&a).is_ok());
        assert!(verify_pin(&a, "135790") && verify_pin(&b, "135790"));
        assert!(!verify_pin(&a, "135791"));
        assert!(
            check_phc("8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92").is_err()
        );
        assert!(!verify_pin("garbage", "135790"));
    }

    #[test]
    fn the_dev_kiosks_pin_is_stored_as_argon2id() {
        assert!(check_phc(crate::shared::config::DEV_ADMIN_PIN_ARGON2).is_ok());
        assert!(verify_pin(
            crate::shared::config::DEV_ADMIN_PIN_ARGON2,
            crate::shared::config::DEV_ADMIN_PIN
        ));
    }

    #[test]
    fn five_wrong_pins_lock_the_pad_doubling_and_a_restart_does_not_reset_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(LOCKOUT_FILE);
        let hash = hash_pin("135790").unwrap();
        let now = Arc::new(AtomicI64::new(1_000_000));
        let gate = |now: &Arc<AtomicI64>| {
            let now = now.clone();
            PinCheck::new(PinGate::new(
                Some(hash.clone()),
                Some(file.clone()),
                move || now.load(Ordering::SeqCst),
            ))
        };
        let pad = gate(&now);
        for _ in 0..4 {
            assert_eq!(pad.check("000000"), PinVerdict::Wrong);
        }
        assert_eq!(pad.check("000000"), PinVerdict::Locked { secs: 60 });
        // Locked: even the right PIN is not checked.
        assert_eq!(pad.check("135790"), PinVerdict::Locked { secs: 60 });
        now.fetch_add(30_000, Ordering::SeqCst);
        // A restart (a new gate on the same file) is still locked.
        let pad = gate(&now);
        assert_eq!(pad.check("135790"), PinVerdict::Locked { secs: 30 });
        now.fetch_add(30_000, Ordering::SeqCst);
        // The sixth wrong PIN locks for twice as long, the seventh four times.
        assert_eq!(pad.check("000000"), PinVerdict::Locked { secs: 120 });
        now.fetch_add(120_000, Ordering::SeqCst);
        assert_eq!(pad.check("000000"), PinVerdict::Locked { secs: 240 });
        now.fetch_add(240_000, Ordering::SeqCst);
        assert_eq!(pad.check("135790"), PinVerdict::Open);
        // The right PIN reset the count.
        for _ in 0..4 {
            assert_eq!(pad.check("000000"), PinVerdict::Wrong);
        }
        // A damaged lockout file counts as used-up tries.
        std::fs::write(&file, b"not json").unwrap();
        assert_eq!(gate(&now).check("000000"), PinVerdict::Locked { secs: 60 });
        // No PIN configured: nothing opens.
        let none = PinCheck::new(PinGate::new(None, None, || 0));
        assert_eq!(none.check(""), PinVerdict::Wrong);
    }

    #[test]
    fn admin_cards_are_keyed_hmacs() {
        let key = CardKey::from_bytes(&[5; 32]);
        let h = key.hash_card("11010119900307901x ");
        assert_eq!(h.len(), 64);
        assert!(key.matches(&h, "11010119900307901X"));
        assert!(!key.matches(&h, "110101199003079016"));
        assert!(!CardKey::from_bytes(&[6; 32]).matches(&h, "11010119900307901X"));
        assert!(!key.matches("zz", "11010119900307901X"));
        use sha2::Digest;
        let plain: String = sha2::Sha256::digest(b"11010119900307901X")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(h, plain, "not a plain SHA-256 of the ID number");
    }
}
