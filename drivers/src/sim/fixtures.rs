//! Synthetic cards for the simulators. Every number passes GB 11643's check; none belongs to a
//! real person (sequence numbers 9xx, test addresses).

use crate::idcard::{number, CardType, Gender, IdCard, ValidTo};

/// The cards the dev dock and the simulators can place on a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardFixture {
    /// 居民身份证, 汉族, valid until a date.
    Resident,
    /// 居民身份证 valid 长期 (long-term).
    ResidentLongTerm,
    /// 居民身份证 that expired in 2020.
    ResidentExpired,
    /// 居民身份证 with a 15-character name (no padding), gender 9 (未说明), nation 98.
    ResidentEdge,
    /// 居民身份证 with gender 0 (未知) and nation 97 (其他).
    ResidentOther,
    /// 港澳台居民居住证 (Hong Kong, 810000 prefix).
    HkMoTw,
    /// 外国人永久居留身份证, 2017 version: 15-character number, English name with a comma and spaces.
    Foreign2017,
    /// 外国人永久居留身份证, 2023 version: number starts with 9, English name longer than 35.
    Foreign2023,
}

impl CardFixture {
    pub const ALL: [CardFixture; 8] = [
        CardFixture::Resident,
        CardFixture::ResidentLongTerm,
        CardFixture::ResidentExpired,
        CardFixture::ResidentEdge,
        CardFixture::ResidentOther,
        CardFixture::HkMoTw,
        CardFixture::Foreign2017,
        CardFixture::Foreign2023,
    ];

    /// The name used on the command line (`hallkiosk idcard sim --card NAME`).
    pub fn as_str(self) -> &'static str {
        match self {
            CardFixture::Resident => "resident",
            CardFixture::ResidentLongTerm => "resident-long-term",
            CardFixture::ResidentExpired => "resident-expired",
            CardFixture::ResidentEdge => "resident-edge",
            CardFixture::ResidentOther => "resident-other",
            CardFixture::HkMoTw => "hk-mo-tw",
            CardFixture::Foreign2017 => "foreign-2017",
            CardFixture::Foreign2023 => "foreign-2023",
        }
    }

    pub fn from_name(name: &str) -> Option<CardFixture> {
        CardFixture::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The card this fixture stands for, with an opaque 1024-byte photo and two fingerprint
    /// templates (synthetic bytes, not a decodable WLT image).
    pub fn card(self) -> IdCard {
        let mut c = IdCard::default();
        let resident = |c: &mut IdCard, name: &str, gender, birth: &str, seq: &str| {
            c.card_type = CardType::Resident;
            c.name = name.into();
            c.gender = gender;
            c.nation_code = "01".into();
            c.birth_date = iso(birth);
            c.address = "北京市东城区政务服务测试路100号".into();
            c.id_number = with_check(&format!("110101{birth}{seq}"));
            c.issuer = "北京市公安局东城分局".into();
        };
        match self {
            CardFixture::Resident => {
                resident(&mut c, "张小三", Gender::Male, "19900307", "901");
                c.valid_from = "2020-05-01".into();
                c.valid_to = ValidTo::Date("2040-05-01".into());
            }
            CardFixture::ResidentLongTerm => {
                resident(&mut c, "李四", Gender::Female, "19580911", "902");
                c.valid_from = "2015-02-10".into();
                c.valid_to = ValidTo::LongTerm;
            }
            CardFixture::ResidentExpired => {
                resident(&mut c, "王五", Gender::Male, "19850120", "903");
                c.valid_from = "2010-06-01".into();
                c.valid_to = ValidTo::Date("2020-06-01".into());
            }
            CardFixture::ResidentEdge => {
                resident(
                    &mut c,
                    "亚历山大·伊万诺维奇·彼得罗夫",
                    Gender::Unstated,
                    "19761105",
                    "905",
                );
                c.nation_code = "98".into();
                c.address = "新疆维吾尔自治区伊犁哈萨克自治州伊宁市解放路测试巷二十八号院三号楼四单元五零一室".chars().take(35).collect();
                c.valid_from = "2018-03-01".into();
                c.valid_to = ValidTo::Date("2038-03-01".into());
            }
            CardFixture::ResidentOther => {
                resident(&mut c, "测试员", Gender::Unknown, "20000229", "906");
                c.nation_code = "97".into();
                c.valid_from = "2019-07-01".into();
                c.valid_to = ValidTo::Date("2029-07-01".into());
            }
            CardFixture::HkMoTw => {
                c.card_type = CardType::HkMoTw;
                c.name = "陈大文".into();
                c.gender = Gender::Male;
                c.birth_date = "1988-12-24".into();
                c.address = "广东省深圳市福田区测试大道1号".into();
                c.id_number = with_check("81000019881224905");
                c.issuer = "深圳市公安局".into();
                c.valid_from = "2021-01-01".into();
                c.valid_to = ValidTo::Date("2026-12-31".into());
                c.pass_number = "H90000001".into();
                c.issue_count = "01".into();
            }
            CardFixture::Foreign2017 => {
                c.card_type = CardType::Foreign2017;
                c.english_name = "GARCIA LOPEZ, MARIA ELENA".into();
                c.gender = Gender::Female;
                c.id_number = "USA110082050109".into();
                c.nationality = "USA".into();
                c.name = "玛丽亚".into();
                c.valid_from = "2017-06-15".into();
                c.valid_to = ValidTo::Date("2027-06-15".into());
                c.birth_date = "1982-05-01".into();
                c.card_version = "01".into();
                c.authority_code = "1100".into();
            }
            CardFixture::Foreign2023 => {
                c.card_type = CardType::Foreign2023;
                c.name = "史密斯".into();
                c.english_name = "MONTGOMERY-SMITHSON, ALEXANDER JONATHAN".into();
                c.gender = Gender::Male;
                c.renew_count = "00".into();
                c.birth_date = "1985-01-01".into();
                c.id_number = with_check("93112419850101906");
                c.issuer = "国家移民管理局".into();
                c.valid_from = "2024-01-01".into();
                c.valid_to = ValidTo::Date("2034-01-01".into());
                c.nationality = "CAN".into();
                c.previous_number_link = "031".into();
            }
        }
        c.photo = opaque_bytes(self as u8, 1024);
        c.fingerprints = opaque_bytes(0x80 | self as u8, 1024);
        c
    }
}

/// Deterministic filler standing in for WLT photos and fingerprint templates.
fn opaque_bytes(seed: u8, len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9u32 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn with_check(first17: &str) -> String {
    let check = number::check_char(first17).unwrap_or('0');
    format!("{first17}{check}")
}

fn iso(yyyymmdd: &str) -> String {
    format!("{}-{}-{}", &yyyymmdd[..4], &yyyymmdd[4..6], &yyyymmdd[6..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_has_a_number_that_fits_its_card() {
        for f in CardFixture::ALL {
            let card = f.card();
            assert_eq!(
                number::validate_for(
                    card.card_type,
                    &card.id_number,
                    &card.birth_date,
                    "2026-11-23"
                ),
                Ok(()),
                "{f:?}"
            );
            assert_eq!(CardFixture::from_name(f.as_str()), Some(f));
            assert_eq!(card.photo.len(), 1024);
        }
    }

    #[test]
    fn number_prefixes_match_the_card_type() {
        assert!(CardFixture::HkMoTw.card().id_number.starts_with("81"));
        assert!(CardFixture::Foreign2023.card().id_number.starts_with('9'));
    }
}
