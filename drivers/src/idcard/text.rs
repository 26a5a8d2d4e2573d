//! The 256-byte text block of a card (UCS-2 little-endian), for the four layouts, both ways: the
//! driver parses it, the simulator builds it. Offsets follow devices.md §1.6–1.7.
//!
//! The layout is chosen by the tag at byte 248: `'J'` 港澳台居民居住证, `'I'` (with byte 249 = 0)
//! 2017 foreign permanent residence, `'Y'` 2023 foreign permanent residence, anything else a
//! resident card. Fields are padded with spaces; only trailing U+0020 and U+0000 are trimmed, so an
//! English name such as `SMITH, JOHN PAUL` keeps its inner spaces. The 2023 ('Y') offsets are
//! derived from SDK buffer sizes and wait for confirmation on a real card (devices.md §7).

use super::{nation_name, number, CardType, Gender, IdCard, ValidTo};

/// Bytes in a text block.
pub const TEXT_LEN: usize = 256;
/// Byte offset of the card-type tag.
const TAG_AT: usize = 248;
/// `长期` in the valid-to field.
const LONG_TERM: &str = "长期";

/// Why a text block was not accepted. Messages name the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("the text block has {0} bytes, expected 256")]
    Length(usize),
    #[error("the {0} field is not valid UCS-2")]
    Encoding(&'static str),
    #[error("the gender code is not one of 0, 1, 2, 9")]
    Gender,
    #[error("the nation code is not in GB/T 3304")]
    Nation,
    #[error("the {0} field is not a real date")]
    Date(&'static str),
    #[error("the {0} field is empty")]
    Missing(&'static str),
    #[error(transparent)]
    Number(#[from] number::CardNumberError),
}

/// The card type the block's tag names.
pub fn card_type(block: &[u8]) -> CardType {
    match (block.get(TAG_AT), block.get(TAG_AT + 1)) {
        (Some(b'J'), _) => CardType::HkMoTw,
        (Some(b'I'), Some(0)) => CardType::Foreign2017,
        (Some(b'Y'), _) => CardType::Foreign2023,
        _ => CardType::Resident,
    }
}

/// One field of a layout: where it is and what it is called in errors.
#[derive(Clone, Copy)]
struct Field {
    at: usize,
    len: usize,
    name: &'static str,
}

const fn f(at: usize, len: usize, name: &'static str) -> Field {
    Field { at, len, name }
}

// Resident layout (§1.6); 'J' shares 0–220 (nation blank).
const NAME: Field = f(0, 30, "name");
const GENDER: Field = f(30, 2, "gender");
const NATION: Field = f(32, 4, "nation");
const BIRTH: Field = f(36, 16, "birth date");
const ADDRESS: Field = f(52, 70, "address");
const NUMBER: Field = f(122, 36, "ID number");
const ISSUER: Field = f(158, 30, "issuing authority");
const VALID_FROM: Field = f(188, 16, "valid from");
const VALID_TO: Field = f(204, 16, "valid to");
// 'J' extras.
const J_PASS: Field = f(220, 18, "pass number");
const J_ISSUES: Field = f(238, 4, "issue count");
// 'I' (2017 foreign permanent residence).
const I_EN_NAME: Field = f(0, 120, "English name");
const I_GENDER: Field = f(120, 2, "gender");
const I_NUMBER: Field = f(122, 30, "permanent residence number");
const I_NATIONALITY: Field = f(152, 6, "nationality");
const I_NAME: Field = f(158, 30, "Chinese name");
const I_VALID_FROM: Field = f(188, 16, "valid from");
const I_VALID_TO: Field = f(204, 16, "valid to");
const I_BIRTH: Field = f(220, 16, "birth date");
const I_VERSION: Field = f(236, 4, "card version");
const I_AUTHORITY: Field = f(240, 8, "authority code");
// 'Y' (2023 foreign permanent residence).
const Y_RENEWALS: Field = f(32, 4, "renewal count");
const Y_EN_NAME: Field = f(52, 70, "English name");
const Y_EN_NAME_MORE: Field = f(220, 22, "English name continued");
const Y_NATIONALITY: Field = f(242, 6, "nationality");
const Y_PREVIOUS: Field = f(250, 6, "previous number link");

/// Decodes a field, keeping trailing padding (for fields that continue elsewhere).
fn raw(block: &[u8], field: Field) -> Result<String, TextError> {
    let units = block[field.at..field.at + field.len]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| TextError::Encoding(field.name))
}

/// Decodes a field and trims trailing spaces and NULs only.
fn text(block: &[u8], field: Field) -> Result<String, TextError> {
    Ok(trim_padding(&raw(block, field)?).to_string())
}

fn trim_padding(s: &str) -> &str {
    s.trim_end_matches([' ', '\0'])
}

fn required(block: &[u8], field: Field) -> Result<String, TextError> {
    let value = text(block, field)?;
    if value.is_empty() {
        return Err(TextError::Missing(field.name));
    }
    Ok(value)
}

fn date(block: &[u8], field: Field) -> Result<String, TextError> {
    let value = text(block, field)?;
    if !number::is_real_date(&value) {
        return Err(TextError::Date(field.name));
    }
    Ok(format!("{}-{}-{}", &value[..4], &value[4..6], &value[6..]))
}

fn valid_to(block: &[u8], field: Field) -> Result<ValidTo, TextError> {
    if text(block, field)?.starts_with(LONG_TERM) {
        return Ok(ValidTo::LongTerm);
    }
    date(block, field).map(ValidTo::Date)
}

fn gender(block: &[u8], field: Field) -> Result<Gender, TextError> {
    let value = text(block, field)?;
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Gender::from_code(c).ok_or(TextError::Gender),
        _ => Err(TextError::Gender),
    }
}

/// Parses a text block into a card (photo and fingerprints empty) and checks its number against
/// the card type and the chip's birth date. `today` (`YYYY-MM-DD`, or empty to skip) rejects birth
/// dates in the future.
pub fn parse(block: &[u8], today: &str) -> Result<IdCard, TextError> {
    if block.len() != TEXT_LEN {
        return Err(TextError::Length(block.len()));
    }
    let mut card = IdCard::default();
    card.card_type = card_type(block);
    match card.card_type {
        CardType::Resident | CardType::HkMoTw => {
            card.name = required(block, NAME)?;
            card.gender = gender(block, GENDER)?;
            if card.card_type == CardType::Resident {
                card.nation_code = text(block, NATION)?;
                nation_name(&card.nation_code).ok_or(TextError::Nation)?;
            } else {
                card.pass_number = text(block, J_PASS)?;
                card.issue_count = text(block, J_ISSUES)?;
            }
            card.birth_date = date(block, BIRTH)?;
            card.address = text(block, ADDRESS)?;
            card.id_number = required(block, NUMBER)?;
            card.issuer = text(block, ISSUER)?;
            card.valid_from = date(block, VALID_FROM)?;
            card.valid_to = valid_to(block, VALID_TO)?;
        }
        CardType::Foreign2017 => {
            card.english_name = required(block, I_EN_NAME)?;
            card.gender = gender(block, I_GENDER)?;
            card.id_number = required(block, I_NUMBER)?;
            card.nationality = text(block, I_NATIONALITY)?;
            card.name = text(block, I_NAME)?;
            card.valid_from = date(block, I_VALID_FROM)?;
            card.valid_to = valid_to(block, I_VALID_TO)?;
            card.birth_date = date(block, I_BIRTH)?;
            card.card_version = text(block, I_VERSION)?;
            card.authority_code = text(block, I_AUTHORITY)?;
        }
        CardType::Foreign2023 => {
            card.name = text(block, NAME)?;
            card.gender = gender(block, GENDER)?;
            card.renew_count = text(block, Y_RENEWALS)?;
            card.birth_date = date(block, BIRTH)?;
            let mut english = raw(block, Y_EN_NAME)?;
            english.push_str(&raw(block, Y_EN_NAME_MORE)?);
            card.english_name = trim_padding(&english).to_string();
            english.clear();
            card.id_number = required(block, NUMBER)?;
            card.issuer = text(block, ISSUER)?;
            card.valid_from = date(block, VALID_FROM)?;
            card.valid_to = valid_to(block, VALID_TO)?;
            card.nationality = text(block, Y_NATIONALITY)?;
            card.previous_number_link = text(block, Y_PREVIOUS)?;
            if card.name.is_empty() && card.english_name.is_empty() {
                return Err(TextError::Missing(NAME.name));
            }
        }
    }
    number::validate_for(card.card_type, &card.id_number, &card.birth_date, today)?;
    Ok(card)
}

/// Why a card cannot be written into a text block (the simulator's side).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {0} field does not fit its {1} bytes")]
pub struct EncodeError(pub &'static str, pub usize);

/// Builds the text block of `card` (the simulator's side), padding with spaces.
pub fn encode(card: &IdCard) -> Result<[u8; TEXT_LEN], EncodeError> {
    let mut block = [0u8; TEXT_LEN];
    for pair in block.chunks_exact_mut(2) {
        pair.copy_from_slice(&0x0020u16.to_le_bytes());
    }
    let compact = |d: &str| d.replace('-', "");
    let to = match &card.valid_to {
        ValidTo::LongTerm => LONG_TERM.to_string(),
        ValidTo::Date(d) => compact(d),
    };
    let gender = card.gender.code().to_string();
    let mut put = |field: Field, value: &str| -> Result<(), EncodeError> {
        let units: Vec<u16> = value.encode_utf16().collect();
        if units.len() * 2 > field.len {
            return Err(EncodeError(field.name, field.len));
        }
        for (i, u) in units.iter().enumerate() {
            block[field.at + 2 * i..field.at + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        Ok(())
    };
    match card.card_type {
        CardType::Resident | CardType::HkMoTw => {
            put(NAME, &card.name)?;
            put(GENDER, &gender)?;
            put(BIRTH, &compact(&card.birth_date))?;
            put(ADDRESS, &card.address)?;
            put(NUMBER, &card.id_number)?;
            put(ISSUER, &card.issuer)?;
            put(VALID_FROM, &compact(&card.valid_from))?;
            put(VALID_TO, &to)?;
            if card.card_type == CardType::Resident {
                put(NATION, &card.nation_code)?;
            } else {
                put(J_PASS, &card.pass_number)?;
                put(J_ISSUES, &card.issue_count)?;
                put(f(TAG_AT, 2, "tag"), "J")?;
            }
        }
        CardType::Foreign2017 => {
            put(I_EN_NAME, &card.english_name)?;
            put(I_GENDER, &gender)?;
            put(I_NUMBER, &card.id_number)?;
            put(I_NATIONALITY, &card.nationality)?;
            put(I_NAME, &card.name)?;
            put(I_VALID_FROM, &compact(&card.valid_from))?;
            put(I_VALID_TO, &to)?;
            put(I_BIRTH, &compact(&card.birth_date))?;
            put(I_VERSION, &card.card_version)?;
            put(I_AUTHORITY, &card.authority_code)?;
            put(f(TAG_AT, 2, "tag"), "I")?;
        }
        CardType::Foreign2023 => {
            put(NAME, &card.name)?;
            put(GENDER, &gender)?;
            put(Y_RENEWALS, &card.renew_count)?;
            put(BIRTH, &compact(&card.birth_date))?;
            let units: Vec<u16> = card.english_name.encode_utf16().collect();
            let first = units.len().min(Y_EN_NAME.len / 2);
            let head = String::from_utf16(&units[..first]).unwrap_or_default();
            let tail = String::from_utf16(&units[first..]).unwrap_or_default();
            put(Y_EN_NAME, &head)?;
            put(Y_EN_NAME_MORE, &tail)?;
            put(NUMBER, &card.id_number)?;
            put(ISSUER, &card.issuer)?;
            put(VALID_FROM, &compact(&card.valid_from))?;
            put(VALID_TO, &to)?;
            put(Y_NATIONALITY, &card.nationality)?;
            put(f(TAG_AT, 2, "tag"), "Y")?;
            put(Y_PREVIOUS, &card.previous_number_link)?;
        }
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixtures::CardFixture;

    fn ucs2(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn every_fixture_round_trips_through_its_layout() {
        for fixture in CardFixture::ALL {
            let card = fixture.card();
            let block = encode(&card).unwrap();
            assert_eq!(card_type(&block), card.card_type, "{fixture:?}");
            let mut parsed =
                parse(&block, "2026-11-23").unwrap_or_else(|e| panic!("{fixture:?}: {e}"));
            parsed.photo = card.photo.clone();
            parsed.fingerprints = card.fingerprints.clone();
            parsed.appended_address = card.appended_address.clone();
            assert!(parsed == card, "{fixture:?} differs after a round trip");
        }
    }

    #[test]
    fn resident_offsets_match_the_spec_byte_for_byte() {
        let block = encode(&CardFixture::Resident.card()).unwrap();
        assert_eq!(&block[0..6], &ucs2("张小三")[..]);
        assert_eq!(&block[6..8], &[0x20, 0x00], "names are padded with spaces");
        assert_eq!(&block[30..32], &ucs2("1")[..]);
        assert_eq!(&block[32..36], &ucs2("01")[..]);
        assert_eq!(&block[36..52], &ucs2("19900307")[..]);
        assert_eq!(
            &block[122..158],
            &ucs2(&CardFixture::Resident.card().id_number)[..]
        );
        assert_eq!(&block[188..204], &ucs2("20200501")[..]);
        assert_eq!(
            &block[248..250],
            &[0x20, 0x00],
            "resident cards have no tag"
        );
        let long = encode(&CardFixture::ResidentLongTerm.card()).unwrap();
        assert_eq!(
            &long[204..208],
            &[0x7F, 0x95, 0x1F, 0x67],
            "长期 as in the spec"
        );
    }

    #[test]
    fn tags_pick_the_layout() {
        let mut block = [0x20u8; TEXT_LEN];
        block[248] = b'I';
        assert_eq!(
            card_type(&block),
            CardType::Resident,
            "'I' needs byte 249 = 0"
        );
        block[249] = 0;
        assert_eq!(card_type(&block), CardType::Foreign2017);
        block[248] = b'J';
        assert_eq!(card_type(&block), CardType::HkMoTw);
        block[248] = b'Y';
        assert_eq!(card_type(&block), CardType::Foreign2023);
    }

    #[test]
    fn only_trailing_padding_is_trimmed() {
        let card = CardFixture::Foreign2017.card();
        assert!(card.english_name.contains(", "), "fixture has inner spaces");
        let mut block = encode(&card).unwrap();
        // NUL padding instead of spaces after the English name.
        let used = card.english_name.encode_utf16().count() * 2;
        block[used..120].fill(0);
        let parsed = parse(&block, "").unwrap();
        assert_eq!(parsed.english_name, card.english_name);
    }

    #[test]
    fn a_fifteen_character_name_fills_its_field_without_padding() {
        let card = CardFixture::ResidentEdge.card();
        assert_eq!(card.name.chars().count(), 15);
        let block = encode(&card).unwrap();
        assert_eq!(parse(&block, "").unwrap().name, card.name);
        let mut longer = card.clone();
        longer.name.push('字');
        assert_eq!(encode(&longer), Err(EncodeError("name", 30)));
    }

    #[test]
    fn long_english_names_continue_on_2023_cards() {
        let card = CardFixture::Foreign2023.card();
        assert!(
            card.english_name.chars().count() > 35,
            "fixture needs the continuation"
        );
        let block = encode(&card).unwrap();
        assert_ne!(&block[220..222], &[0x20, 0x00]);
        assert_eq!(parse(&block, "").unwrap().english_name, card.english_name);
    }

    #[test]
    fn bad_fields_are_named_and_values_never_shown() {
        let good = encode(&CardFixture::Resident.card()).unwrap();
        let case = |at: usize, s: &str| {
            let mut b = good;
            let units = ucs2(s);
            b[at..at + units.len()].copy_from_slice(&units);
            parse(&b, "2026-11-23").unwrap_err()
        };
        assert_eq!(case(30, "3"), TextError::Gender);
        assert_eq!(case(32, "57"), TextError::Nation);
        assert_eq!(case(32, "00"), TextError::Nation);
        assert_eq!(case(36, "19900230"), TextError::Date("birth date"));
        assert_eq!(case(204, "长久"), TextError::Date("valid to"));
        assert_eq!(
            case(36, "19900308"),
            TextError::Number(number::CardNumberError::BirthDateMismatch)
        );
        assert_eq!(
            case(122 + 34, "0"),
            TextError::Number(number::CardNumberError::Number(
                number::NumberError::CheckChar
            ))
        );
        assert_eq!(case(0, "               "), TextError::Missing("name"));
        let mut lone_surrogate = good;
        lone_surrogate[52..54].copy_from_slice(&0xD800u16.to_le_bytes());
        let err = parse(&lone_surrogate, "").unwrap_err();
        assert_eq!(err, TextError::Encoding("address"));
        assert_eq!(parse(&good[..255], ""), Err(TextError::Length(255)));
        let shown = format!("{}", case(36, "19900308"));
        assert!(!shown.contains("1990"), "{shown}");
    }

    #[test]
    fn gender_zero_and_nine_and_nations_97_98_are_read() {
        let edge = parse(&encode(&CardFixture::ResidentEdge.card()).unwrap(), "").unwrap();
        assert_eq!(edge.gender, Gender::Unstated);
        assert_eq!(edge.nation_code, "98");
        let other = parse(&encode(&CardFixture::ResidentOther.card()).unwrap(), "").unwrap();
        assert_eq!(other.gender, Gender::Unknown);
        assert_eq!(other.nation_code, "97");
    }
}
