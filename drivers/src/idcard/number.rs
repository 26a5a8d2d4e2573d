//! ID numbers (公民身份号码, GB 11643-1999): structure and the ISO 7064 MOD 11-2 check character.

/// Weights of the first 17 digits: 2^(17−i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The check character for the first 17 digits, or `None` when they are not 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize] as char)
}

/// Why an 18-character ID number is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("an ID number has 18 characters")]
    Length,
    #[error("the first 17 characters of an ID number are digits")]
    NotDigits,
    #[error("the check character does not match")]
    CheckChar,
    #[error("the birth date in the ID number is not a real date")]
    BirthDate,
}

/// Validates an 18-character number: digits, check character (upper-case `X` only) and a real
/// birth date at positions 7–14.
pub fn validate(number: &str) -> Result<(), NumberError> {
    if number.len() != 18 || !number.is_ascii() {
        return Err(NumberError::Length);
    }
    let (first17, last) = number.split_at(17);
    let expected = check_char(first17).ok_or(NumberError::NotDigits)?;
    if !last.starts_with(expected) {
        return Err(NumberError::CheckChar);
    }
    let date = &number[6..14];
    if !is_real_date(date) {
        return Err(NumberError::BirthDate);
    }
    Ok(())
}

/// Whether `yyyymmdd` (8 digits) names a day of the Gregorian calendar.
pub fn is_real_date(yyyymmdd: &str) -> bool {
    if yyyymmdd.len() != 8 || !yyyymmdd.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let year: u32 = yyyymmdd[..4].parse().unwrap_or(0);
    let month: u32 = yyyymmdd[4..6].parse().unwrap_or(0);
    let day: u32 = yyyymmdd[6..].parse().unwrap_or(0);
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1800 && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors_are_valid() {
        for n in [
            "11010519491231002X",
            "440524188001010014",
            "932682198501010017",
            "911124198108030024",
        ] {
            assert_eq!(validate(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn the_known_bad_sample_is_rejected() {
        assert_eq!(validate("110101197608056896"), Err(NumberError::CheckChar));
        assert_eq!(check_char("11010119760805689"), Some('7'));
    }

    #[test]
    fn lower_case_x_and_bad_shapes_are_rejected() {
        assert_eq!(validate("11010519491231002x"), Err(NumberError::CheckChar));
        assert_eq!(validate("1101051949123100"), Err(NumberError::Length));
        assert_eq!(validate("1101051949123A002X"), Err(NumberError::NotDigits));
    }

    #[test]
    fn impossible_birth_dates_are_rejected() {
        let first17 = "11010519490230002";
        let n = format!("{first17}{}", check_char(first17).unwrap());
        assert_eq!(validate(&n), Err(NumberError::BirthDate));
        assert!(is_real_date("20000229"));
        assert!(!is_real_date("19000229"));
        assert!(!is_real_date("20231301"));
    }
}
