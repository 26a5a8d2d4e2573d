//! Tracking codes (受理编号): `KIOSK-NNNNNN-C`, the kiosk id, a per-kiosk sequence number and an
//! ISO 7064 MOD 37,36 check character over both, so a code misread or mistyped by one character
//! (or two swapped neighbours) is caught before it is looked up.

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a == c.to_ascii_uppercase() as u8)
        .map(|p| p as u32)
}

/// The MOD 37,36 check character of the alphanumeric characters of `s` (others are skipped).
pub fn check_char(s: &str) -> Option<char> {
    let mut p = 36u32;
    let mut any = false;
    for c in s.chars().filter(|c| c.is_ascii_alphanumeric()) {
        any = true;
        let v = value(c)?;
        let mut t = (p + v) % 36;
        if t == 0 {
            t = 36;
        }
        p = (2 * t) % 37;
    }
    if !any {
        return None;
    }
    let check = (37 - p) % 36;
    Some(ALPHABET[check as usize] as char)
}

/// The tracking code for sequence number `seq` at `kiosk`.
pub fn code(kiosk: &str, seq: u64) -> String {
    let body = format!("{kiosk}-{seq:06}");
    let check = check_char(&body).unwrap_or('0');
    format!("{body}-{check}")
}

/// Whether `code` has the shape `…-NNNNNN-C` and its check character is right.
pub fn is_valid(code: &str) -> bool {
    let Some((body, check)) = code.rsplit_once('-') else {
        return false;
    };
    let mut cs = check.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) => check_char(body) == Some(c.to_ascii_uppercase()),
        _ => false,
    }
}

/// Whether `code` is exactly a code `kiosk` makes: `code(kiosk, n)` for some sequence number `n`
/// (upper-case check character, at least six digits without extra leading zeros). A prefix check
/// is not enough: kiosk `BJ` would otherwise pass for kiosk `BJ-DC`'s codes.
pub fn is_code_of(kiosk: &str, code: &str) -> bool {
    let Some(rest) = code.strip_prefix(kiosk).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let Some((digits, _check)) = rest.split_once('-') else {
        return false;
    };
    if digits.len() < 6 || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match digits.parse::<u64>() {
        Ok(n) => self::code(kiosk, n) == code,
        Err(_) => false,
    }
}

/// The kiosk whose code `code` exactly is (see [`is_code_of`]), if any.
pub fn kiosk_of(code: &str) -> Option<&str> {
    let (rest, _check) = code.rsplit_once('-')?;
    let (kiosk, _digits) = rest.rsplit_once('-')?;
    (!kiosk.is_empty() && is_code_of(kiosk, code)).then_some(kiosk)
}

/// The verification digest printed in a receipt's QR code (`HKR1:<code>:<digest>`): the first 8 hex
/// digits of SHA-256 over the tracking code and the submission's idempotency key. The key is known
/// only to the kiosk and the platform, so the platform can tell a genuine receipt from a code
/// somebody made up (the check character only catches typing errors).
pub fn receipt_digest(code: &str, idempotency_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"HKR1|");
    h.update(code.to_ascii_uppercase().as_bytes());
    h.update(b"|");
    h.update(idempotency_key.as_bytes());
    h.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_digests_bind_code_and_key() {
        let c = code("K1", 7);
        let d = receipt_digest(&c, "8d0f6f5e-0000-4000-8000-000000000001");
        assert_eq!(d.len(), 8);
        assert!(d.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            d,
            receipt_digest(&c.to_lowercase(), "8d0f6f5e-0000-4000-8000-000000000001")
        );
        assert_ne!(
            d,
            receipt_digest(&c, "8d0f6f5e-0000-4000-8000-000000000002")
        );
        assert_ne!(
            d,
            receipt_digest(&code("K1", 8), "8d0f6f5e-0000-4000-8000-000000000001")
        );
    }

    #[test]
    fn codes_check_themselves() {
        let c = code("DEV-0001", 42);
        assert!(c.starts_with("DEV-0001-000042-"), "{c}");
        assert!(is_valid(&c));
        assert!(is_valid(&c.to_lowercase()));
        assert!(!is_valid("DEV-0001-000042"));
        assert!(!is_valid(""));
    }

    #[test]
    fn a_kiosk_owns_exactly_its_own_codes() {
        let mine = code("BJ", 12);
        assert!(is_code_of("BJ", &mine));
        assert!(is_code_of("BJ", &code("BJ", 1_234_567)));
        // Kiosk BJ-DC's codes start with `BJ-` and check themselves, but are not BJ's.
        let theirs = code("BJ-DC", 12);
        assert!(is_valid(&theirs));
        assert!(!is_code_of("BJ", &theirs));
        assert!(is_code_of("BJ-DC", &theirs));
        assert_eq!(kiosk_of(&theirs), Some("BJ-DC"));
        assert_eq!(kiosk_of(&mine), Some("BJ"));
        assert_eq!(kiosk_of("BJ-12-0"), None);
        // Not the kiosk's exact format: lower-case check, missing zeros, extra zeros, junk.
        assert!(!is_code_of("BJ", &mine.to_lowercase()));
        assert!(!is_code_of(
            "BJ",
            &format!("BJ-12-{}", check_char("BJ-12").unwrap())
        ));
        assert!(!is_code_of(
            "BJ",
            &format!("BJ-0000012-{}", check_char("BJ-0000012").unwrap())
        ));
        assert!(!is_code_of("BJ", "BJ-00001a-0"));
        assert!(!is_code_of("BJ", "BJ-"));
        assert!(!is_code_of("BJ", ""));
        assert!(!is_code_of("BJ", "BJ-000012-Z-0"));
        assert!(!is_code_of("BJ", "BJ-99999999999999999999-0"));
    }

    #[test]
    fn every_single_substitution_and_adjacent_swap_is_caught() {
        let c = code("K001", 123_456);
        let chars: Vec<char> = c.chars().collect();
        for i in 0..chars.len() {
            if !chars[i].is_ascii_alphanumeric() {
                continue;
            }
            for &a in ALPHABET {
                let a = a as char;
                if a == chars[i] {
                    continue;
                }
                let mut m = chars.clone();
                m[i] = a;
                let s: String = m.iter().collect();
                assert!(!is_valid(&s), "{s} passes");
            }
            if i + 1 < chars.len()
                && chars[i + 1].is_ascii_alphanumeric()
                && chars[i] != chars[i + 1]
            {
                let mut m = chars.clone();
                m.swap(i, i + 1);
                let s: String = m.iter().collect();
                assert!(!is_valid(&s), "{s} passes");
            }
        }
    }
}
