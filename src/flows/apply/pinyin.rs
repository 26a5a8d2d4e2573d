//! Pinyin input for the on-screen keyboard: letters typed → candidate characters.
//!
//! The dictionary is built once, on first use, from the GB 2312 character set (the set the bundled UI
//! font covers and every receipt printer prints) and the `pinyin` crate's readings, every reading of
//! a polyphonic character included. Candidates for a syllable come in this order:
//!
//! 1. the characters most used in names and addresses ([`COMMON`], a list kept in this file),
//! 2. GB 2312 level 1 (the 3 755 common characters),
//! 3. GB 2312 level 2.
//!
//! Typing matches whole syllables first, then syllables that start with what was typed (`zh` shows
//! 张, 赵, 周 … at once); `v` stands for `ü` (`lv` → 吕). One character per pick: names and
//! addresses are typed character by character, which is how the halls' own kiosks work.

use pinyin::ToPinyinMulti;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Characters citizens type most in names and addresses, most frequent first within each group:
/// common surnames, common given-name characters, address words.
const COMMON: &str = concat!(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁",
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴",
    "莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪",
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬建国志斌宇浩凯健俊帆帅旭欣雪琳晨阳",
    "子怡涵轩梓睿博鹏飞辉峰波鑫海燕慧丹佳婷颖琪晓东春秋梅云凤金小新民德福永胜利成林荣",
    "省市区县镇乡村街道路号楼栋单元室巷弄里社组小园花大厦广场城东南西北中上下门口前后河湖山桥港湾岛",
    "一二三四五六七八九十百千甲乙丙丁第",
);

struct Dictionary {
    /// Syllable (plain, `ü` as `v`) → characters in candidate order.
    by_syllable: BTreeMap<String, Vec<char>>,
}

fn dictionary() -> &'static Dictionary {
    static DICT: OnceLock<Dictionary> = OnceLock::new();
    DICT.get_or_init(build)
}

/// GB 2312 level of a character: 1, 2, or None when it is outside GB 2312's hanzi.
fn gb2312_level(c: char) -> Option<u8> {
    let mut buf = [0u8; 4];
    let s = c.encode_utf8(&mut buf);
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    if unmappable || bytes.len() != 2 {
        return None;
    }
    let (lead, trail) = (bytes[0], bytes[1]);
    if !(0xA1..=0xFE).contains(&trail) {
        return None;
    }
    match lead {
        0xB0..=0xD7 => Some(1),
        0xD8..=0xF7 => Some(2),
        _ => None,
    }
}

fn readings(c: char) -> Vec<String> {
    let Some(multi) = c.to_pinyin_multi() else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for p in multi {
        let s = p.plain().replace('ü', "v");
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn build() -> Dictionary {
    let mut levels: [Vec<(Vec<u8>, char)>; 2] = [Vec::new(), Vec::new()];
    for c in '\u{4E00}'..='\u{9FA5}' {
        if let Some(level) = gb2312_level(c) {
            let mut buf = [0u8; 4];
            let (bytes, _, _) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
            levels[usize::from(level - 1)].push((bytes.into_owned(), c));
        }
    }
    let mut order: Vec<char> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in COMMON.chars() {
        if seen.insert(c) {
            order.push(c);
        }
    }
    for level in &mut levels {
        // GB 2312's own order: level 1 by pinyin, level 2 by radical.
        level.sort();
        for (_, c) in level.iter() {
            if seen.insert(*c) {
                order.push(*c);
            }
        }
    }
    let mut by_syllable: BTreeMap<String, Vec<char>> = BTreeMap::new();
    for c in order {
        for r in readings(c) {
            by_syllable.entry(r).or_default().push(c);
        }
    }
    Dictionary { by_syllable }
}

/// Candidate characters for the letters typed so far, best first, at most `limit`.
pub fn candidates(typed: &str, limit: usize) -> Vec<char> {
    let typed = typed.to_ascii_lowercase().replace('ü', "v");
    if typed.is_empty() || !typed.bytes().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let dict = dictionary();
    let mut out: Vec<char> = Vec::new();
    let push = |cs: &Vec<char>, out: &mut Vec<char>| {
        for &c in cs {
            if out.len() >= limit {
                return;
            }
            if !out.contains(&c) {
                out.push(c);
            }
        }
    };
    if let Some(exact) = dict.by_syllable.get(&typed) {
        push(exact, &mut out);
    }
    // Longer syllables starting with what was typed: interleave them so that each contributes its
    // most common characters first (zh → 张 赵 周 朱 … rather than all of zha before zhe).
    let longer: Vec<&Vec<char>> = dict
        .by_syllable
        .range(typed.clone()..)
        .take_while(|(s, _)| s.starts_with(&typed))
        .filter(|(s, _)| **s != typed)
        .map(|(_, v)| v)
        .collect();
    let mut ranked: Vec<(usize, char)> = Vec::new();
    let rank = |c: char| COMMON.chars().position(|x| x == c).unwrap_or(usize::MAX);
    for cs in &longer {
        for (i, &c) in cs.iter().enumerate() {
            let r = rank(c);
            // Common characters by their rank in COMMON, the rest after all of them by position.
            let key = if r == usize::MAX { 100_000 + i } else { r };
            ranked.push((key, c));
        }
    }
    ranked.sort_by_key(|(k, _)| *k);
    for (_, c) in ranked {
        if out.len() >= limit {
            break;
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Whether `typed` can still become a syllable (so a key that cannot is refused, not appended).
pub fn is_prefix(typed: &str) -> bool {
    let typed = typed.to_ascii_lowercase();
    dictionary()
        .by_syllable
        .range(typed.clone()..)
        .next()
        .is_some_and(|(s, _)| s.starts_with(&typed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_surnames_come_first() {
        assert_eq!(candidates("zhang", 3)[0], '张');
        assert_eq!(candidates("wang", 1), vec!['王']);
        assert_eq!(candidates("li", 1), vec!['李']);
        assert!(candidates("zh", 8).contains(&'张'));
        assert!(candidates("zh", 8).contains(&'赵'));
    }

    #[test]
    fn v_stands_for_u_umlaut_and_polyphones_match_every_reading() {
        assert_eq!(candidates("lv", 1), vec!['吕']);
        // 曾 is read zeng and ceng; as a surname zeng.
        assert!(candidates("zeng", 5).contains(&'曾'));
        assert!(candidates("ceng", 20).contains(&'曾'));
        // 单 as in 单元 (dan) and the surname (shan).
        assert!(candidates("dan", 10).contains(&'单'));
        assert!(candidates("shan", 40).contains(&'单'));
    }

    #[test]
    fn address_words_are_near_the_top() {
        for (py, c) in [
            ("lu", '路'),
            ("hao", '号'),
            ("shi", '市'),
            ("qu", '区'),
            ("lou", '楼'),
        ] {
            let got = candidates(py, 5);
            assert!(got.contains(&c), "{py}: {got:?}");
        }
    }

    #[test]
    fn every_candidate_is_in_gb2312_and_nonsense_gives_nothing() {
        for py in ["a", "zh", "xiang", "ng"] {
            for c in candidates(py, 500) {
                assert!(gb2312_level(c).is_some(), "{c}");
            }
        }
        assert!(candidates("xq", 10).is_empty());
        assert!(candidates("", 10).is_empty());
        assert!(candidates("z1", 10).is_empty());
        assert!(is_prefix("zhu"));
        assert!(is_prefix("zhuang"));
        assert!(!is_prefix("zhx"));
    }

    #[test]
    fn the_dictionary_covers_gb2312_level_1() {
        let n: usize = ('\u{4E00}'..='\u{9FA5}')
            .filter(|&c| gb2312_level(c) == Some(1))
            .count();
        assert_eq!(n, 3755, "GB 2312 level 1 has 3 755 characters");
        let covered = ('\u{4E00}'..='\u{9FA5}')
            .filter(|&c| gb2312_level(c) == Some(1))
            .filter(|&c| !readings(c).is_empty())
            .count();
        assert_eq!(covered, 3755, "every level-1 character can be typed");
    }
}
