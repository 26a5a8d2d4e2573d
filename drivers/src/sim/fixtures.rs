//! Synthetic cards for the simulators. Every number passes GB 11643's check; none belongs to a
//! real person (sequence numbers 9xx, test addresses).

use crate::idcard::{number, CardType, Gender, IdCard, ValidTo};

/// The cards the dev dock can place on the simulated reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardFixture {
    /// 居民身份证, 汉族, valid until a date.
    Resident,
    /// 居民身份证 valid 长期 (long-term).
    ResidentLongTerm,
    /// 居民身份证 that expired in 2020.
    ResidentExpired,
    /// 港澳台居民居住证 (Hong Kong, 810000 prefix).
    HkMoTw,
    /// 外国人永久居留身份证, 2023 version (number starts with 9).
    Foreign2023,
}

impl CardFixture {
    pub const ALL: [CardFixture; 5] = [
        CardFixture::Resident,
        CardFixture::ResidentLongTerm,
        CardFixture::ResidentExpired,
        CardFixture::HkMoTw,
        CardFixture::Foreign2023,
    ];

    /// The card this fixture stands for.
    pub fn card(self) -> IdCard {
        let resident =
            |name: &str, gender, birth: &str, seq: &str, valid_from: &str, valid_to| IdCard {
                card_type: CardType::Resident,
                name: name.into(),
                english_name: String::new(),
                gender,
                nation_code: "01".into(),
                birth_date: iso(birth),
                address: "北京市东城区政务服务测试路100号".into(),
                id_number: with_check(&format!("110101{birth}{seq}")),
                issuer: "北京市公安局东城分局".into(),
                valid_from: valid_from.into(),
                valid_to,
            };
        match self {
            CardFixture::Resident => resident(
                "张小三",
                Gender::Male,
                "19900307",
                "901",
                "2020-05-01",
                ValidTo::Date("2040-05-01".into()),
            ),
            CardFixture::ResidentLongTerm => resident(
                "李四",
                Gender::Female,
                "19580911",
                "902",
                "2015-02-10",
                ValidTo::LongTerm,
            ),
            CardFixture::ResidentExpired => resident(
                "王五",
                Gender::Male,
                "19850120",
                "903",
                "2010-06-01",
                ValidTo::Date("2020-06-01".into()),
            ),
            CardFixture::HkMoTw => IdCard {
                card_type: CardType::HkMoTw,
                name: "陈大文".into(),
                english_name: String::new(),
                gender: Gender::Male,
                nation_code: String::new(),
                birth_date: "1988-12-24".into(),
                address: "广东省深圳市福田区测试大道1号".into(),
                id_number: with_check("81000019881224905"),
                issuer: "深圳市公安局".into(),
                valid_from: "2021-01-01".into(),
                valid_to: ValidTo::Date("2026-12-31".into()),
            },
            CardFixture::Foreign2023 => IdCard {
                card_type: CardType::Foreign2023,
                name: "史密斯".into(),
                english_name: "SMITH JOHN".into(),
                gender: Gender::Male,
                nation_code: String::new(),
                birth_date: "1985-01-01".into(),
                address: String::new(),
                id_number: with_check("93112419850101906"),
                issuer: "国家移民管理局".into(),
                valid_from: "2024-01-01".into(),
                valid_to: ValidTo::Date("2034-01-01".into()),
            },
        }
    }
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
    fn every_fixture_has_a_valid_number_matching_its_birth_date() {
        for f in CardFixture::ALL {
            let card = f.card();
            assert_eq!(number::validate(&card.id_number), Ok(()), "{f:?}");
            assert_eq!(
                &card.id_number[6..14],
                card.birth_date.replace('-', ""),
                "{f:?}"
            );
        }
    }

    #[test]
    fn number_prefixes_match_the_card_type() {
        assert!(CardFixture::HkMoTw.card().id_number.starts_with("81"));
        assert!(CardFixture::Foreign2023.card().id_number.starts_with('9'));
    }
}
