//! The key that seals submission payloads (XChaCha20-Poly1305), and where it comes from: a systemd
//! credential (`$CREDENTIALS_DIRECTORY/outbox-key`) when the unit passes one, else a key file
//! beside the database, created with mode 0600 on first use. The key never enters the database.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload as AeadPayload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;
/// The systemd credential name a unit can pass with `LoadCredential=outbox-key:…`.
pub const CREDENTIAL: &str = "outbox-key";

/// Why the key could not be had, or a payload not opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the outbox key {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("cannot create the outbox key {0}: {1}")]
    Create(PathBuf, std::io::Error),
    #[error("the outbox key {0} must be 32 bytes")]
    Length(PathBuf),
    #[error("the outbox key {0} is readable by others (mode {1:o}); it must be 0600")]
    Permissions(PathBuf, u32),
    #[error("a payload failed authentication (wrong key or damaged data)")]
    Open,
}

/// The payload key, zeroized when dropped.
pub struct PayloadKey {
    cipher: XChaCha20Poly1305,
    /// Key for [`PayloadKey::person_ref`], derived from the payload key.
    ref_key: Zeroizing<[u8; 32]>,
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

impl std::fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PayloadKey(from {})", self.source.display())
    }
}

impl PayloadKey {
    /// The systemd credential if the process has one, else `file` (created if missing).
    pub fn load_or_create(file: &Path) -> Result<PayloadKey, KeyError> {
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            let cred = Path::new(&dir).join(CREDENTIAL);
            if cred.exists() {
                return Self::read(&cred, false);
            }
        }
        if !file.exists() {
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
                .map_err(|e| KeyError::Create(file.into(), e))?;
        }
        Self::read(file, true)
    }

    fn read(path: &Path, check_mode: bool) -> Result<PayloadKey, KeyError> {
        if check_mode {
            let mode = std::fs::metadata(path)
                .map_err(|e| KeyError::Read(path.into(), e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions(path.into(), mode & 0o777));
            }
        }
        let bytes =
            Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::Read(path.into(), e))?);
        if bytes.len() != 32 {
            return Err(KeyError::Length(path.into()));
        }
        let cipher =
            XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| KeyError::Length(path.into()))?;
        Ok(PayloadKey {
            cipher,
            ref_key: ref_key(&bytes),
            source: path.into(),
        })
    }

    /// A key for tests, from fixed bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> PayloadKey {
        PayloadKey {
            cipher: XChaCha20Poly1305::new(bytes.into()),
            ref_key: ref_key(bytes),
            source: PathBuf::from("(memory)"),
        }
    }

    /// A pseudonymous reference to a person (HMAC-SHA-256 of the ID number under a key that is
    /// not in the database), so that a card placed later finds that person's submissions without
    /// the kiosk keeping the ID number once the platform has it. Without the key file it cannot be
    /// turned back into an ID number, nor checked against a guessed one.
    pub fn person_ref(&self, id_number: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.ref_key[..])
            .expect("HMAC takes keys of any length");
        mac.update(id_number.trim().to_ascii_uppercase().as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Seals `plaintext`, bound to `aad` (the submission's idempotency key): nonce ‖ ciphertext.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption with a fresh random nonce cannot fail for payloads under 256 GiB.
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                AeadPayload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        out.extend(ct);
        out
    }

    /// Opens what [`PayloadKey::seal`] made with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), AeadPayload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| KeyError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let k = PayloadKey::from_bytes(&[7; 32]);
        let sealed = k.seal(b"key-1", b"secret");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(&**k.open(b"key-1", &sealed).unwrap(), b"secret");
        assert!(k.open(b"key-2", &sealed).is_err(), "bound to its row");
        let other = PayloadKey::from_bytes(&[8; 32]);
        assert!(other.open(b"key-1", &sealed).is_err());
        assert!(k.open(b"key-1", &sealed[..10]).is_err());
    }

    #[test]
    fn the_key_file_is_created_0600_and_loose_permissions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.key");
        let a = PayloadKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = PayloadKey::load_or_create(&path).unwrap();
        let sealed = a.seal(b"k", b"x");
        assert_eq!(
            &**b.open(b"k", &sealed).unwrap(),
            b"x",
            "same key on reopen"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            PayloadKey::load_or_create(&path),
            Err(KeyError::Permissions(_, 0o644))
        ));
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
