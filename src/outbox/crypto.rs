//! The keys that seal submission payloads (XChaCha20-Poly1305), and where they come from: a systemd
//! credential (`$CREDENTIALS_DIRECTORY/outbox-key`) when the unit passes one, else a key file
//! beside the database, created with mode 0600 on first use. The key never enters the database.
//!
//! Sealed format 1 (docs/outbox.md): `0x01 ‖ key id (4 bytes) ‖ nonce (24) ‖ ciphertext+tag`. The
//! associated data is the format byte, the key id and every stored field of the row whose change
//! matters ([`Binding`]): a payload moved to another row, or a row whose kiosk, service item,
//! consent version, time or person reference was edited in the database, no longer opens.
//!
//! Rotation: a [`Keyring`] has one current key (new entries) and retired keys, found by id, kept in
//! `outbox-keys/<id>.key` beside the database until no entry sealed under them is left
//! (`hallkiosk outbox keys`, `hallkiosk outbox rotate-key`).
//!
//! Format 0 (before migration 0005: `nonce ‖ ciphertext`, bound to the idempotency key only) is
//! opened once, when the outbox is opened, and sealed again in format 1 ([`Keyring::open_legacy`]).

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload as AeadPayload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;
/// The sealed format written now.
pub const FORMAT: u8 = 1;
/// Length of a key id.
pub const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
/// The systemd credential name a unit can pass with `LoadCredential=outbox-key:…`.
pub const CREDENTIAL: &str = "outbox-key";
/// Retired keys, beside the database: `outbox-keys/<id>.key`.
pub const RETIRED_DIR: &str = "outbox-keys";

/// Why a key could not be had, or a payload not sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the outbox key {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error(
        "no outbox key credential {0}: the unit has credentials but not `outbox-key` (its \
         LoadCredentialEncrypted=outbox-key:/etc/hallkiosk/credentials/outbox-key.cred, sealed by \
         scripts/provision)"
    )]
    MissingCredential(PathBuf),
    #[error("cannot create the outbox key {0}: {1}")]
    Create(PathBuf, std::io::Error),
    #[error("the outbox key {0} must be 32 bytes")]
    Length(PathBuf),
    #[error("the outbox key {0} is readable by others (mode {1:o}); it must be 0600 (or 0640)")]
    Permissions(PathBuf, u32),
    #[error("a payload failed authentication (wrong key or damaged data)")]
    Open,
    #[error("a payload is sealed in format {0}, which this version cannot read")]
    Format(u8),
    #[error(
        "a payload is sealed under key {0}, which this kiosk does not have (retired and removed?)"
    )]
    UnknownKey(String),
    #[error("a payload could not be sealed")]
    Seal,
}

/// The stored fields a sealed payload is bound to (its row). Changing any of them in the
/// database makes the payload fail to open.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub idempotency_key: &'a str,
    pub kiosk_id: &'a str,
    pub service_item: &'a str,
    pub consent_version: &'a str,
    pub created_at_ms: i64,
    pub person_ref: Option<&'a str>,
}

impl Binding<'_> {
    /// Length-prefixed fields under a label, after the format byte and key id.
    fn aad(&self, header: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"hallkiosk outbox aad v1\0");
        out.extend_from_slice(header);
        let created = self.created_at_ms.to_string();
        let person = match self.person_ref {
            Some(r) => format!("1{r}"),
            None => "0".to_string(),
        };
        for f in [
            self.idempotency_key,
            self.kiosk_id,
            self.service_item,
            self.consent_version,
            &created,
            &person,
        ] {
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f.as_bytes());
        }
        out
    }
}

/// One payload key, zeroized when dropped.
pub struct PayloadKey {
    cipher: XChaCha20Poly1305,
    /// Key for [`PayloadKey::person_ref`], derived from the payload key.
    ref_key: Zeroizing<[u8; 32]>,
    id: [u8; KEY_ID_LEN],
    source: PathBuf,
}

/// The person-reference key derived from the payload key: SHA-256 over a label and the key.
fn ref_key(bytes: &[u8]) -> Zeroizing<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"hallkiosk person-ref v1\0");
    h.update(bytes);
    Zeroizing::new(h.finalize().into())
}

/// A key's id: the first 4 bytes of SHA-256 over a label and the key (names it, reveals nothing).
fn key_id(bytes: &[u8]) -> [u8; KEY_ID_LEN] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"hallkiosk outbox key id v1\0");
    h.update(bytes);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A key id as 8 hex digits (file names, messages).
pub fn id_hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl std::fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PayloadKey({} from {})",
            id_hex(&self.id),
            self.source.display()
        )
    }
}

/// Writes 32 fresh random bytes to `file` (mode 0600, must not exist).
pub fn create_key_file(file: &Path) -> Result<(), KeyError> {
    let mut generated = XChaCha20Poly1305::generate_key(&mut OsRng);
    let key = Zeroizing::new(<[u8; 32]>::from(generated));
    generated.as_mut_slice().fill(0);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| KeyError::Create(file.into(), e))?;
    f.write_all(&key[..])
        .and_then(|_| f.sync_all())
        .map_err(|e| KeyError::Create(file.into(), e))
}

impl PayloadKey {
    /// The systemd credential when the process runs with credentials (`$CREDENTIALS_DIRECTORY`,
    /// a unit with `LoadCredentialEncrypted=`): then it must be there — a kiosk unit that lost its
    /// credential stops with [`KeyError::MissingCredential`] instead of sealing under a new key in
    /// the clear. Without credentials (development), `file`, created if missing.
    pub fn load_or_create(file: &Path) -> Result<PayloadKey, KeyError> {
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            let cred = Path::new(&dir).join(CREDENTIAL);
            if !cred.exists() {
                return Err(KeyError::MissingCredential(cred));
            }
            return Self::read(&cred, false);
        }
        if !file.exists() {
            create_key_file(file)?;
        }
        Self::read(file, true)
    }

    /// Reads a key file; with `check_mode`, one readable by others, or writable by its group, is
    /// refused. Group-readable (0640) is allowed: on a kiosk the UI and the sync daemon are
    /// different users sharing the data directory's group, and both open retired keys.
    pub fn read(path: &Path, check_mode: bool) -> Result<PayloadKey, KeyError> {
        if check_mode {
            let mode = std::fs::metadata(path)
                .map_err(|e| KeyError::Read(path.into(), e))?
                .permissions()
                .mode();
            if mode & 0o037 != 0 {
                return Err(KeyError::Permissions(path.into(), mode & 0o777));
            }
        }
        let bytes =
            Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::Read(path.into(), e))?);
        let bytes: &[u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Length(path.into()))?;
        let mut key = Self::from_bytes(bytes);
        key.source = path.into();
        Ok(key)
    }

    /// A key from its 32 bytes (tests, benches).
    pub fn from_bytes(bytes: &[u8; 32]) -> PayloadKey {
        PayloadKey {
            cipher: XChaCha20Poly1305::new(bytes.into()),
            ref_key: ref_key(bytes),
            id: key_id(bytes),
            source: PathBuf::from("(memory)"),
        }
    }

    /// This key's id (stored in front of every payload it seals).
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        self.id
    }

    /// Where the key came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// A pseudonymous reference to a person (HMAC-SHA-256 of the ID number under a key that is
    /// not in the database), so that a card placed later finds that person's submissions without
    /// the kiosk keeping the ID number once the platform has it. Without the key file it cannot be
    /// turned back into an ID number, nor checked against a guessed one.
    pub fn person_ref(&self, id_number: &str) -> String {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.ref_key[..]) else {
            // HMAC takes keys of any length; unreachable, and no reference is better than a panic.
            return String::new();
        };
        mac.update(id_number.trim().to_ascii_uppercase().as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Seals `plaintext` bound to `binding`: `FORMAT ‖ key id ‖ nonce ‖ ciphertext`.
    pub fn seal(&self, binding: &Binding<'_>, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + 16);
        out.push(FORMAT);
        out.extend_from_slice(&self.id);
        let aad = binding.aad(&out);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                AeadPayload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Seal)?;
        if ct.len() < plaintext.len() + 16 {
            return Err(KeyError::Seal);
        }
        out.extend_from_slice(&nonce);
        out.extend(ct);
        Ok(out)
    }

    fn open_parts(&self, aad: &[u8], nonce_and_ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if nonce_and_ct.len() < NONCE_LEN {
            return Err(KeyError::Open);
        }
        let (nonce, ct) = nonce_and_ct.split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), AeadPayload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| KeyError::Open)
    }
}

/// The current key and the retired ones still needed to open older entries.
#[derive(Debug)]
pub struct Keyring {
    current: PayloadKey,
    retired: Vec<PayloadKey>,
}

impl From<PayloadKey> for Keyring {
    fn from(current: PayloadKey) -> Keyring {
        Keyring {
            current,
            retired: Vec::new(),
        }
    }
}

/// The key id a sealed payload names (format 1), if it is one.
pub fn sealed_key_id(sealed: &[u8]) -> Option<[u8; KEY_ID_LEN]> {
    match sealed {
        [FORMAT, a, b, c, d, ..] => Some([*a, *b, *c, *d]),
        _ => None,
    }
}

impl Keyring {
    pub fn new(current: PayloadKey, retired: Vec<PayloadKey>) -> Keyring {
        let retired = retired.into_iter().filter(|k| k.id != current.id).collect();
        Keyring { current, retired }
    }

    /// The current key (systemd credential or `file`, created if missing) and the retired keys in
    /// `outbox-keys/` beside `file` (each 0600; a key that cannot be read is an error, not skipped).
    pub fn load(file: &Path) -> Result<Keyring, KeyError> {
        let current = PayloadKey::load_or_create(file)?;
        let dir = file.with_file_name(RETIRED_DIR);
        let mut retired = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "key"))
                .collect();
            paths.sort();
            for p in paths {
                retired.push(PayloadKey::read(&p, true)?);
            }
        }
        Ok(Keyring::new(current, retired))
    }

    pub fn current(&self) -> &PayloadKey {
        &self.current
    }

    pub fn retired(&self) -> &[PayloadKey] {
        &self.retired
    }

    fn all(&self) -> impl Iterator<Item = &PayloadKey> {
        std::iter::once(&self.current).chain(&self.retired)
    }

    /// Seals under the current key.
    pub fn seal(&self, binding: &Binding<'_>, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.current.seal(binding, plaintext)
    }

    /// Opens a format-1 payload with the key its header names.
    pub fn open(
        &self,
        binding: &Binding<'_>,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let Some(&format) = sealed.first() else {
            return Err(KeyError::Open);
        };
        if format != FORMAT {
            return Err(KeyError::Format(format));
        }
        let id = sealed_key_id(sealed).ok_or(KeyError::Open)?;
        let key = self
            .all()
            .find(|k| k.id == id)
            .ok_or_else(|| KeyError::UnknownKey(id_hex(&id)))?;
        key.open_parts(&binding.aad(&sealed[..HEADER_LEN]), &sealed[HEADER_LEN..])
    }

    /// Opens a format-0 payload (`nonce ‖ ciphertext`, bound to the idempotency key only), trying
    /// every key (format 0 has no key id).
    pub fn open_legacy(
        &self,
        idempotency_key: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.all()
            .find_map(|k| k.open_parts(idempotency_key.as_bytes(), sealed).ok())
            .ok_or(KeyError::Open)
    }

    /// The person references of `id_number` under every key (entries sealed under a retired key
    /// carry that key's reference).
    pub fn person_refs(&self, id_number: &str) -> Vec<String> {
        self.all().map(|k| k.person_ref(id_number)).collect()
    }

    /// The current key's reference (stored with new entries).
    pub fn person_ref(&self, id_number: &str) -> String {
        self.current.person_ref(id_number)
    }
}

impl PayloadKey {
    /// Seals in format 0 (`nonce ‖ ciphertext`, bound to `aad` only), as versions before
    /// migration 0005 did; for the migration's tests only.
    #[doc(hidden)]
    pub fn seal_format0(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        if let Ok(ct) = self.cipher.encrypt(
            &nonce,
            AeadPayload {
                msg: plaintext,
                aad,
            },
        ) {
            out.extend(ct);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(key: &str) -> Binding<'_> {
        Binding {
            idempotency_key: key,
            kiosk_id: "K001",
            service_item: "P-1",
            consent_version: "c1",
            created_at_ms: 1_000,
            person_ref: Some("abc"),
        }
    }

    #[test]
    fn person_refs_are_keyed_and_stable() {
        let k = PayloadKey::from_bytes(&[7; 32]);
        let r = k.person_ref("11010119900307901X");
        assert_eq!(r.len(), 32);
        assert_eq!(r, k.person_ref("11010119900307901x "));
        assert_ne!(r, k.person_ref("110101199003079016"));
        assert_ne!(
            r,
            PayloadKey::from_bytes(&[8; 32]).person_ref("11010119900307901X")
        );
        assert!(!r.contains("110101"));
    }

    #[test]
    fn seal_and_open_with_the_same_binding_only() {
        let ring = Keyring::from(PayloadKey::from_bytes(&[7; 32]));
        let b = binding("key-1");
        let sealed = ring.seal(&b, b"secret").unwrap();
        assert_eq!(sealed[0], FORMAT);
        assert_eq!(sealed_key_id(&sealed), Some(ring.current().id()));
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(&**ring.open(&b, &sealed).unwrap(), b"secret");
        // Every bound field matters.
        let changed = [
            Binding {
                idempotency_key: "key-2",
                ..b
            },
            Binding {
                kiosk_id: "K002",
                ..b
            },
            Binding {
                service_item: "P-2",
                ..b
            },
            Binding {
                consent_version: "c2",
                ..b
            },
            Binding {
                created_at_ms: 1_001,
                ..b
            },
            Binding {
                person_ref: None,
                ..b
            },
            Binding {
                person_ref: Some("abd"),
                ..b
            },
        ];
        for c in &changed {
            assert!(ring.open(c, &sealed).is_err(), "{c:?}");
        }
        let other = Keyring::from(PayloadKey::from_bytes(&[8; 32]));
        assert!(matches!(
            other.open(&b, &sealed),
            Err(KeyError::UnknownKey(_))
        ));
        assert!(ring.open(&b, &sealed[..10]).is_err());
        assert!(ring.open(&b, &[]).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(ring.open(&b, &flipped), Err(KeyError::Open)));
        let mut v9 = sealed.clone();
        v9[0] = 9;
        assert!(matches!(ring.open(&b, &v9), Err(KeyError::Format(9))));
        // The key id is bound too: a header naming another (present) key does not open.
        let both = Keyring::new(
            PayloadKey::from_bytes(&[7; 32]),
            vec![PayloadKey::from_bytes(&[8; 32])],
        );
        let mut renamed = sealed.clone();
        renamed[1..5].copy_from_slice(&PayloadKey::from_bytes(&[8; 32]).id());
        assert!(both.open(&b, &renamed).is_err());
    }

    #[test]
    fn a_rotated_ring_opens_old_entries_and_seals_new_ones_under_the_new_key() {
        let old = Keyring::from(PayloadKey::from_bytes(&[1; 32]));
        let b = binding("k");
        let before = old.seal(&b, b"old").unwrap();
        let ring = Keyring::new(
            PayloadKey::from_bytes(&[2; 32]),
            vec![PayloadKey::from_bytes(&[1; 32])],
        );
        assert_eq!(&**ring.open(&b, &before).unwrap(), b"old");
        let after = ring.seal(&b, b"new").unwrap();
        assert_eq!(sealed_key_id(&after), Some(ring.current().id()));
        assert_ne!(sealed_key_id(&after), sealed_key_id(&before));
        assert_eq!(ring.person_refs("x").len(), 2);
        // Format 0 opens with whichever key made it, bound to the idempotency key.
        let legacy = PayloadKey::from_bytes(&[1; 32]).seal_format0(b"k", b"zero");
        assert_eq!(&**ring.open_legacy("k", &legacy).unwrap(), b"zero");
        assert!(ring.open_legacy("other", &legacy).is_err());
    }

    #[test]
    fn the_key_file_is_created_0600_and_loose_permissions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.key");
        let a = Keyring::load(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = Keyring::load(&path).unwrap();
        let sealed = a.seal(&binding("k"), b"x").unwrap();
        assert_eq!(
            &**b.open(&binding("k"), &sealed).unwrap(),
            b"x",
            "same key on reopen"
        );
        // The data group may read it (the kiosk UI and the sync daemon are two users), nobody else.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(PayloadKey::load_or_create(&path).is_ok());
        for loose in [0o644, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
            assert!(matches!(
                PayloadKey::load_or_create(&path),
                Err(KeyError::Permissions(_, m)) if m == loose
            ));
        }
        std::fs::write(dir.path().join("short.key"), b"abc").unwrap();
        std::fs::set_permissions(
            dir.path().join("short.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        assert!(matches!(
            PayloadKey::load_or_create(&dir.path().join("short.key")),
            Err(KeyError::Length(_))
        ));
    }
}
