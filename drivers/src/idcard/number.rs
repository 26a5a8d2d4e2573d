//! ID numbers (公民身份号码, GB 11643-1999): structure and the ISO 7064 MOD 11-2 check character, and
//! which numbers belong on which card:
//!
//! | card | number |
//! |---|---|
//! | 居民身份证 | 18 characters, first digit 1–8 but not the 81/82/83 prefixes |
//! | 港澳台居民居住证 | 18 characters, 81 (Hong Kong), 82 (Macau) or 83 (Taiwan) first |
//! | 2023 外国人永久居留身份证 | 18 characters, 9 first |
//! | 2017 外国人永久居留身份证 | 15 characters: 3 letters + 12 digits, no check character |
//!
//! For the 18-character kinds the birth date inside the number must be a real date, not in the
//! future, and the chip's own birth date.

use super::CardType;

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

/// Why the number read from a card does not belong on it. Messages carry no part of the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardNumberError {
    #[error("the ID number is not valid: {0}")]
    Number(NumberError),
    #[error("the ID number's prefix does not belong on a {0} card")]
    Prefix(&'static str),
    #[error("a 2017 permanent-residence number has 3 letters and 12 digits")]
    OldPermanentResidenceShape,
    #[error("the birth date on the chip differs from the one in the ID number")]
    BirthDateMismatch,
    #[error("the birth date is in the future")]
    BirthDateInFuture,
}

/// Checks `number` against the rules of `card_type`. `chip_birth` is the chip's birth date and
/// `today` the current date, both `YYYY-MM-DD`.
pub fn validate_for(
    card_type: CardType,
    number: &str,
    chip_birth: &str,
    today: &str,
) -> Result<(), CardNumberError> {
    if card_type == CardType::Foreign2017 {
        let b = number.as_bytes();
        let shaped = b.len() == 15
            && b[..3].iter().all(u8::is_ascii_uppercase)
            && b[3..].iter().all(u8::is_ascii_digit);
        return if shaped {
            Ok(())
        } else {
            Err(CardNumberError::OldPermanentResidenceShape)
        };
    }
    validate(number).map_err(CardNumberError::Number)?;
    let prefix_ok = match card_type {
        CardType::Resident => {
            matches!(number.as_bytes()[0], b'1'..=b'8')
                && !["81", "82", "83"].contains(&&number[..2])
        }
        CardType::HkMoTw => ["81", "82", "83"].contains(&&number[..2]),
        CardType::Foreign2023 => number.starts_with('9'),
        CardType::Foreign2017 => true,
    };
    if !prefix_ok {
        return Err(CardNumberError::Prefix(card_type.as_str()));
    }
    let in_number = &number[6..14];
    if chip_birth.replace('-', "") != in_number {
        return Err(CardNumberError::BirthDateMismatch);
    }
    if !today.is_empty() && chip_birth > today {
        return Err(CardNumberError::BirthDateInFuture);
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

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    #[test]
    fn numbers_must_fit_the_card_type() {
        use CardType::*;
        let resident = "11010519491231002X";
        let today = "2026-11-23";
        assert_eq!(
            validate_for(Resident, resident, "1949-12-31", today),
            Ok(())
        );
        assert_eq!(
            validate_for(Resident, resident, "1949-12-30", today),
            Err(CardNumberError::BirthDateMismatch)
        );
        assert_eq!(
            validate_for(HkMoTw, resident, "1949-12-31", today),
            Err(CardNumberError::Prefix("hk_mo_tw"))
        );
        for p in ["81", "82", "83"] {
            let n = with_check(&format!("{p}000019881224905"));
            assert_eq!(validate_for(HkMoTw, &n, "1988-12-24", today), Ok(()), "{p}");
            assert_eq!(
                validate_for(Resident, &n, "1988-12-24", today),
                Err(CardNumberError::Prefix("resident")),
                "{p}"
            );
        }
        for n in ["932682198501010017", "911124198108030024"] {
            let birth = format!("{}-{}-{}", &n[6..10], &n[10..12], &n[12..14]);
            assert_eq!(validate_for(Foreign2023, n, &birth, today), Ok(()));
            assert_eq!(
                validate_for(Resident, n, &birth, today),
                Err(CardNumberError::Prefix("resident"))
            );
        }
        assert_eq!(
            validate_for(Foreign2023, "932682198501010018", "1985-01-01", today),
            Err(CardNumberError::Number(NumberError::CheckChar))
        );
        let future = with_check("11010120300101001");
        assert_eq!(
            validate_for(Resident, &future, "2030-01-01", today),
            Err(CardNumberError::BirthDateInFuture)
        );
    }

    #[test]
    fn old_permanent_residence_numbers_are_three_letters_and_twelve_digits() {
        let ok = "USA110085050101";
        assert_eq!(
            validate_for(CardType::Foreign2017, ok, "1985-05-01", ""),
            Ok(())
        );
        for bad in [
            "usa110085050101",
            "US1110085050101",
            "USA11008505010",
            "USA11008505010X",
        ] {
            assert_eq!(
                validate_for(CardType::Foreign2017, bad, "1985-05-01", ""),
                Err(CardNumberError::OldPermanentResidenceShape),
                "{bad}"
            );
        }
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
