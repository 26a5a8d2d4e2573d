//! Pinyin input for the on-screen keyboard: letters typed → candidate characters.
//!
//! The dictionary is built once, on first use, from the GB 2312 character set (the set the bundled UI
//! font covers and every receipt printer prints) and the `pinyin` crate's readings, every reading of
//! a polyphonic character included. Candidates for a syllable come in this order:
//!
//! 1. the characters most used in names and addresses ([`SURNAMES`], [`GIVEN`], [`ADDRESS`]), for
//!    their usual reading only (波 is common as bo, not as its rare bei: `bei` gives 北 first),
//! 2. GB 2312 level 1 (the 3 755 common characters),
//! 3. GB 2312 level 2.
//!
//! Typing matches whole syllables first, then syllables that start with what was typed (`zh` shows
//! 张, 赵, 周 … at once); `v` stands for `ü` (`lv` → 吕).
//!
//! Several syllables typed in one go (`beijing`, `zhangxiaosan`) are split into syllables
//! ([`segment`]); the candidates then start with the place names and address words of [`PHRASES`]
//! read that way (北京), then the syllables' first characters joined (张小三: names are not in any
//! word list), then the first syllable's characters one by one. A pick takes as many syllables as
//! it has characters; the letters left stay for the next pick.

use pinyin::ToPinyinMulti;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Characters citizens type most in names and addresses, most frequent first within each group:
/// common surnames, common given-name characters, address words (and numbers).
const SURNAMES: &str = concat!(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁",
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴",
    "莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪",
);
const GIVEN: &str = concat!(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬建国志斌宇浩凯健俊帆帅旭欣雪琳晨阳",
    "小子怡涵轩梓睿博鹏飞辉峰波鑫海燕慧丹佳婷颖琪晓东春秋梅云凤金新民德福永胜利成林荣",
);
const ADDRESS: &str = concat!(
    "省市区县镇乡村街道路号楼栋单元室巷弄里社组小园花大厦广场城东南西北中上下门口前后河湖山桥港湾岛",
    "一二三四五六七八九十百千甲乙丙丁第",
);

/// The common characters in candidate order: surnames, given names, address words.
fn common() -> impl Iterator<Item = char> {
    SURNAMES.chars().chain(GIVEN.chars()).chain(ADDRESS.chars())
}

/// Whether `c` is common only as a surname (肖): not what a given name or an address most likely
/// holds after the first character.
fn surname_only(c: char) -> bool {
    SURNAMES.contains(c) && !GIVEN.contains(c) && !ADDRESS.contains(c)
}

/// Place names and address words typed whole: provinces, large cities, and the words of a Chinese
/// address. Read with each character's usual reading unless a reading is given (重庆 chong).
const PHRASES: &[&str] = &[
    "北京",
    "天津",
    "上海",
    "重庆:chong qing",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏:xi zang",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "广州",
    "深圳",
    "南京",
    "杭州",
    "武汉",
    "成都",
    "西安",
    "沈阳",
    "长春:chang chun",
    "哈尔滨",
    "济南",
    "青岛",
    "郑州",
    "长沙:chang sha",
    "南昌",
    "合肥",
    "福州",
    "厦门",
    "南宁",
    "昆明",
    "贵阳",
    "兰州",
    "西宁",
    "银川",
    "乌鲁木齐",
    "拉萨",
    "呼和浩特",
    "石家庄",
    "太原",
    "苏州",
    "无锡",
    "宁波",
    "温州",
    "大连",
    "东莞",
    "佛山",
    "珠海",
    "北京市",
    "上海市",
    "天津市",
    "东城区",
    "西城区",
    "朝阳区:chao yang qu",
    "海淀区",
    "丰台区",
    "浦东新区",
    "街道",
    "社区",
    "小区",
    "花园",
    "大厦",
    "公寓",
    "胡同",
    "大街",
    "大道",
    "东路",
    "西路",
    "南路",
    "北路",
    "中路",
    "路口",
    "村委会",
    "居委会",
    "开发区",
    "新区",
    "高新区",
    "工业园",
    "号楼",
    "单元:dan yuan",
    "楼层",
    "房间",
    "门牌",
    "省",
    "市辖区",
    "自治区",
    "自治州",
    "自治县",
    "县城",
    "乡镇",
    "村庄",
    "中国",
    "人民",
    "政府",
    "解放",
    "建设",
    "和平",
    "胜利",
    "友谊",
    "幸福",
    "光明",
    "文化",
    "中山",
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "和平路",
    "长安街:chang an jie",
    "东风",
    "红旗",
    "新华",
    "学院",
    "大学",
    "医院",
    "公司",
    "有限公司",
    "工厂",
    "宿舍",
    "家属院",
    "新村",
    "花苑",
    "嘉园",
    "名苑",
];

struct Dictionary {
    /// Syllable (plain, `ü` as `v`) → characters in candidate order.
    by_syllable: BTreeMap<String, Vec<char>>,
    /// Every syllable there is, for splitting what was typed.
    syllables: std::collections::HashSet<String>,
    /// Joined syllables (`beijing`) → phrases read that way, in [`PHRASES`] order.
    phrases: BTreeMap<String, Vec<String>>,
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

/// The usual reading of `c` (plain, `ü` as `v`).
fn usual_reading(c: char) -> Option<String> {
    use pinyin::ToPinyin;
    c.to_pinyin().map(|p| p.plain().replace('ü', "v"))
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
    let mut gb_rank: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for level in &mut levels {
        // GB 2312's own order: level 1 by pinyin, level 2 by radical.
        level.sort();
    }
    for (i, (_, c)) in levels.iter().flatten().enumerate() {
        gb_rank.insert(*c, i);
    }
    let mut order: Vec<char> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in common() {
        if seen.insert(c) {
            order.push(c);
        }
    }
    for level in &levels {
        for (_, c) in level.iter() {
            if seen.insert(*c) {
                order.push(*c);
            }
        }
    }
    let common: std::collections::HashSet<char> = common().collect();
    let mut by_syllable: BTreeMap<String, Vec<char>> = BTreeMap::new();
    // A common character leads only under its usual reading; under its other readings it takes
    // its place among the rest (GB 2312 order).
    let mut later: Vec<(String, char)> = Vec::new();
    for &c in &order {
        let usual = usual_reading(c);
        for r in readings(c) {
            if common.contains(&c) && usual.as_deref() != Some(r.as_str()) {
                later.push((r, c));
            } else {
                by_syllable.entry(r).or_default().push(c);
            }
        }
    }
    let rank = |c: &char| gb_rank.get(c).copied().unwrap_or(usize::MAX);
    for (r, c) in later {
        let list = by_syllable.entry(r).or_default();
        let at = list
            .iter()
            .position(|x| !common.contains(x) && rank(x) > rank(&c))
            .unwrap_or(list.len());
        list.insert(at, c);
    }
    let syllables = by_syllable.keys().cloned().collect();
    let mut phrases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in PHRASES {
        let (word, reading) = match entry.split_once(':') {
            Some((w, r)) => (w, r.replace(' ', "")),
            None => {
                let joined: Option<String> = entry.chars().map(usual_reading).collect();
                match joined {
                    Some(j) => (*entry, j),
                    None => continue,
                }
            }
        };
        phrases.entry(reading).or_default().push(word.to_string());
    }
    Dictionary {
        by_syllable,
        syllables,
        phrases,
    }
}

/// Splits letters into syllables, every letter used, preferring long syllables first (`xian` is
/// 先, not 西安 — type `xi` and pick, or pick 西安 among the phrases). The last syllable may be
/// unfinished (`beij` → bei + j). None when the letters cannot be split.
pub fn segment(typed: &str) -> Option<Vec<String>> {
    let dict = dictionary();
    fn go(rest: &str, dict: &Dictionary, out: &mut Vec<String>) -> bool {
        if rest.is_empty() {
            return true;
        }
        for len in (1..=rest.len().min(6)).rev() {
            let head = &rest[..len];
            let whole = dict.syllables.contains(head);
            let last_prefix = len == rest.len() && is_prefix(head);
            if whole || last_prefix {
                out.push(head.to_string());
                if go(&rest[len..], dict, out) {
                    return true;
                }
                out.pop();
            }
        }
        false
    }
    let mut out = Vec::new();
    go(typed, dict, &mut out).then_some(out)
}

/// One candidate: its text and how many of the typed syllables it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    pub syllables: usize,
}

/// Candidates for everything typed, best first: phrases and the joined first characters when
/// several syllables were typed, then single characters for the first syllable.
pub fn phrase_candidates(typed: &str, limit: usize) -> Vec<Candidate> {
    let typed = typed.to_ascii_lowercase().replace('ü', "v");
    let Some(parts) = segment(&typed).filter(|p| !p.is_empty()) else {
        return Vec::new();
    };
    let mut out: Vec<Candidate> = Vec::new();
    let add = |text: String, syllables: usize, out: &mut Vec<Candidate>| {
        if out.len() < limit && !text.is_empty() && !out.iter().any(|c| c.text == text) {
            out.push(Candidate { text, syllables });
        }
    };
    if parts.len() > 1 {
        let dict = dictionary();
        // Phrases for all the syllables typed, then for fewer (beijingshi → 北京市, then 北京).
        for n in (2..=parts.len()).rev() {
            let key: String = parts[..n].concat();
            if let Some(words) = dict.phrases.get(&key) {
                for w in words {
                    add(w.clone(), n, &mut out);
                }
            }
        }
        // A name: a surname first, then given-name characters (张小三, not 张肖三); and the same
        // without a surname first, for the given name typed after the surname was picked (小三).
        for surname_first in [true, false] {
            let joined: Option<String> = parts
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let cs = candidates(p, 40);
                    cs.iter()
                        .copied()
                        .find(|&c| (i == 0 && surname_first) || !surname_only(c))
                        .or(cs.first().copied())
                })
                .collect();
            if let Some(j) = joined {
                add(j, parts.len(), &mut out);
            }
        }
    }
    for c in candidates(&parts[0], limit) {
        add(c.to_string(), 1, &mut out);
    }
    out
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
    let rank = |c: char| common().position(|x| x == c).unwrap_or(usize::MAX);
    for cs in &longer {
        for (i, &c) in cs.iter().enumerate() {
            let r = rank(c);
            // Common characters by their rank in the lists, the rest after all of them by position.
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

    /// Issue 18: the first candidate for bei was 波 (common as bo, rarely read bei).
    #[test]
    fn a_common_character_leads_only_under_its_usual_reading() {
        assert_eq!(candidates("bei", 1), vec!['北']);
        assert!(candidates("bo", 3).contains(&'波'));
        assert!(candidates("bei", 30).contains(&'波') || !readings('波').contains(&"bei".into()));
    }

    /// Issue 18: `beijing` silently dropped "jing"; whole words and names typed in one go.
    #[test]
    fn several_syllables_give_phrases_names_then_characters() {
        assert_eq!(
            segment("beijing"),
            Some(vec!["bei".to_string(), "jing".to_string()])
        );
        assert_eq!(segment("zhangxiaosan").map(|s| s.len()), Some(3));
        assert_eq!(
            segment("beij").map(|s| s.len()),
            Some(2),
            "unfinished last syllable"
        );
        assert_eq!(segment("xq"), None);
        let c = phrase_candidates("beijing", 8);
        assert_eq!(c[0].text, "北京");
        assert_eq!(c[0].syllables, 2);
        let name = phrase_candidates("zhangxiaosan", 8);
        assert_eq!(name[0].text, "张小三", "{name:?}");
        assert_eq!(name[0].syllables, 3);
        assert!(name.iter().any(|c| c.text == "张" && c.syllables == 1));
        let chongqing = phrase_candidates("chongqing", 3);
        assert_eq!(
            chongqing[0].text, "重庆",
            "polyphone read as written in PHRASES"
        );
        let city = phrase_candidates("beijingshi", 3);
        assert_eq!(city[0].text, "北京市");
        assert_eq!(phrase_candidates("zhang", 1)[0].text, "张");
        assert!(phrase_candidates("", 5).is_empty());
        let given = phrase_candidates("xiaosan", 5);
        assert!(given.iter().any(|c| c.text == "小三"), "{given:?}");
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
