//! Chinese text → pinyin with tone numbers, the only form the kiosk hands to the Mandarin voice.
//!
//! espeak-ng's own reading of Chinese characters is wrong too often for a government kiosk (重新 →
//! zhòng, 银行 → xíng, "023" → 零二十三), so the kiosk never gives it characters: each prompt is
//! transcribed here, by the `pinyin` crate's most common reading of each character, corrected by
//! [`OVERRIDES`] — a reviewed table of words whose reading depends on the word (polyphones),
//! of numbers said as quantities, and of names. The longest override wins at each position.
//! Digits are read one by one (codes and numbers: `023` → líng èr sān), Latin letters are kept as
//! capitals, punctuation becomes a pause. The result is stable text: the catalogue's
//! transcriptions are committed (`src/voice/transcripts.txt`) and reviewed like translations.

use pinyin::ToPinyin;

/// Words read differently from their characters' most common readings, with the reason. Reviewed:
/// every entry is checked by `tests/voice.rs` against espeak-ng's phonemes; add a word here (and
/// to that test's table) rather than changing a prompt's wording to dodge a misreading.
pub const OVERRIDES: &[(&str, &str, &str)] = &[
    // 重 chóng "again" (default zhòng "heavy")
    ("重新", "chong2 xin1", "polyphone 重"),
    ("重拍", "chong2 pai1", "polyphone 重"),
    ("重听", "chong2 ting1", "polyphone 重"),
    ("重复", "chong2 fu4", "polyphone 重"),
    ("重试", "chong2 shi4", "polyphone 重"),
    ("重庆", "chong2 qing4", "place name"),
    // 行 háng "bank, trade" (default xíng)
    ("银行", "yin2 hang2", "polyphone 行"),
    ("行业", "hang2 ye4", "polyphone 行"),
    ("行驶证", "xing2 shi3 zheng4", "polyphone 行 (kept xíng)"),
    // 长 zhǎng "elder, head" (default cháng)
    ("长辈", "zhang3 bei4", "polyphone 长"),
    ("校长", "xiao4 zhang3", "polyphone 长"),
    ("成长", "cheng2 zhang3", "polyphone 长"),
    // …and cháng "long", which the crate does not make the default
    ("过长", "guo4 chang2", "polyphone 长"),
    ("长期", "chang2 qi1", "polyphone 长"),
    ("时长", "shi2 chang2", "polyphone 长"),
    ("长江", "chang2 jiang1", "polyphone 长"),
    // 应 yìng "respond"
    ("感应", "gan3 ying4", "polyphone 应"),
    // 还 huán "return, repay" (default hái)
    ("还款", "huan2 kuan3", "polyphone 还"),
    ("归还", "gui1 huan2", "polyphone 还"),
    ("还贷", "huan2 dai4", "polyphone 还"),
    // 调 tiáo "mediate, adjust" (default diào)
    ("调解", "tiao2 jie3", "polyphone 调"),
    ("调整", "tiao2 zheng3", "polyphone 调"),
    // 单 dān (a surname reads shàn)
    ("单位", "dan1 wei4", "polyphone 单"),
    // 乐 yuè "music" (default lè)
    ("音乐", "yin1 yue4", "polyphone 乐"),
    ("乐器", "yue4 qi4", "polyphone 乐"),
    // 曾 zēng as a surname (default céng)
    ("曾先生", "zeng1 xian1 sheng5", "surname 曾"),
    ("曾女士", "zeng1 nv3 shi4", "surname 曾"),
    // 朝 cháo "towards" in place names (default zhāo)
    ("朝阳区", "chao2 yang2 qu1", "place name"),
    ("朝阳", "chao2 yang2", "place name"),
    // 处 chǔ "handle" (default chù "place")
    ("处理", "chu3 li3", "polyphone 处"),
    // 差 chà "bad" in 好差评
    ("好差评", "hao3 cha4 ping2", "polyphone 差"),
    ("差评", "cha4 ping2", "polyphone 差"),
    // 模 mó
    ("模式", "mo2 shi4", "polyphone 模"),
    // 相 xiàng "photo"
    ("照相", "zhao4 xiang4", "polyphone 相"),
    ("相片", "xiang4 pian4", "polyphone 相"),
    // 了 liǎo "understand" (default le)
    ("了解", "liao3 jie3", "polyphone 了"),
    // 供 gōng/gòng, 给 jǐ
    ("提供", "ti2 gong1", "polyphone 供"),
    // 数 shù "number" (default shǔ for the verb in some tables)
    ("人数", "ren2 shu4", "polyphone 数"),
    // 应 yīng "should"
    ("应当", "ying1 dang1", "polyphone 应"),
    // 便 pián
    ("便宜", "pian2 yi5", "polyphone 便"),
    // 角 jué
    ("角色", "jue2 se4", "polyphone 角"),
    // 累 lěi "accumulate"
    ("累计", "lei3 ji4", "polyphone 累"),
    // 大夫 dàifu
    ("大夫", "dai4 fu5", "polyphone 大"),
    // 地 de as a particle after adverbs the prompts use
    ("认真地", "ren4 zhen1 de5", "particle 地"),
    // 号 hào, 为 wéi
    ("作为", "zuo4 wei2", "polyphone 为"),
    ("成为", "cheng2 wei2", "polyphone 为"),
    // 得 děi "must"
    ("得到", "de2 dao4", "polyphone 得"),
    // 的 in 的确
    ("的确", "di2 que4", "polyphone 的"),
    // 着 zháo
    ("着急", "zhao2 ji2", "polyphone 着"),
    // 空 kòng "blank"
    ("空白", "kong4 bai2", "polyphone 空"),
    // 传 zhuàn
    ("传记", "zhuan4 ji4", "polyphone 传"),
    // numbers said as quantities, not digit by digit
    ("11位", "shi2 yi1 wei4", "quantity"),
    ("60个字", "liu4 shi2 ge4 zi4", "quantity"),
];

/// Readings of the digits, one by one (queue numbers, codes, phone numbers): 0 is líng.
const DIGITS: [&str; 10] = [
    "ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3",
];

/// A transcription: pinyin with tone numbers (neutral tone 5), syllables separated by spaces,
/// punctuation as `,` and `.`; and the characters that had no reading (a stale table or a rare
/// character: the catalogue test requires none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transcript {
    pub pinyin: String,
    pub unread: Vec<char>,
}

impl Transcript {
    fn word(&mut self, w: &str) {
        if !self.pinyin.is_empty() && !self.pinyin.ends_with(' ') {
            self.pinyin.push(' ');
        }
        self.pinyin.push_str(w);
    }
    fn pause(&mut self, p: char) {
        let trimmed = self.pinyin.trim_end().len();
        self.pinyin.truncate(trimmed);
        if self.pinyin.is_empty() || self.pinyin.ends_with([',', '.']) {
            return;
        }
        self.pinyin.push(p);
        self.pinyin.push(' ');
    }
}

/// The pinyin of one character by its most common reading, neutral tone written 5.
fn char_reading(c: char) -> Option<String> {
    let p = c.to_pinyin()?.with_tone_num_end();
    let mut s = p.replace('ü', "v");
    if !s.ends_with(|d: char| d.is_ascii_digit()) {
        s.push('5');
    }
    Some(s)
}

/// Transcribes Chinese text (with digits, Latin letters and punctuation) to tone-numbered pinyin.
pub fn transcribe(text: &str) -> Transcript {
    let mut out = Transcript::default();
    let mut rest = text;
    'outer: while let Some(c) = rest.chars().next() {
        let mut best: Option<(&str, &str)> = None;
        for (word, reading, _) in OVERRIDES {
            if rest.starts_with(word) && best.is_none_or(|(w, _)| word.len() > w.len()) {
                best = Some((word, reading));
            }
        }
        if let Some((word, reading)) = best {
            out.word(reading);
            rest = &rest[word.len()..];
            continue 'outer;
        }
        match c {
            '0'..='9' => out.word(DIGITS[c as usize - '0' as usize]),
            'a'..='z' | 'A'..='Z' => out.word(&c.to_ascii_uppercase().to_string()),
            '，' | '、' | '；' | '：' | ',' | ';' | ':' | '（' | '）' | '(' | ')' | '-' | '—' => {
                out.pause(',')
            }
            '。' | '！' | '？' | '.' | '!' | '?' | '…' => out.pause('.'),
            '“' | '”' | '"' | '‘' | '’' | '《' | '》' | '/' => {}
            c if c.is_whitespace() => {}
            c => match char_reading(c) {
                Some(r) => out.word(&r),
                None => out.unread.push(c),
            },
        }
        rest = &rest[c.len_utf8()..];
    }
    out.pinyin = out.pinyin.trim_end().to_string();
    out
}

/// A code said character by character in Chinese (queue numbers `A023` → `A ling2 er4 san1`,
/// tracking codes): digits by their readings, letters as capitals, anything else skipped.
pub fn code_pinyin(code: &str) -> String {
    code.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(DIGITS[c as usize - '0' as usize].to_string()),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_uppercase().to_string()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A code said character by character in English: `A023` → `A, 0, 2, 3`.
pub fn code_english(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c {
            '0' => "zero".to_string(),
            c => c.to_ascii_uppercase().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A small count (people waiting) as a Chinese quantity in pinyin: 0–9999, e.g. 23 → èr shí sān.
/// Larger numbers are read digit by digit.
pub fn count_pinyin(n: u32) -> String {
    if n >= 10_000 {
        return code_pinyin(&n.to_string());
    }
    if n == 0 {
        return DIGITS[0].to_string();
    }
    if n == 2 {
        return "liang3".to_string();
    }
    let units = [(1000, "qian1"), (100, "bai3"), (10, "shi2"), (1, "")];
    let mut words: Vec<String> = Vec::new();
    let mut zero_pending = false;
    let mut started = false;
    for (u, name) in units {
        let d = (n / u % 10) as usize;
        if d == 0 {
            zero_pending = started;
            continue;
        }
        if zero_pending {
            words.push(DIGITS[0].to_string());
            zero_pending = false;
        }
        // 十 alone at the start: 12 → shí èr, not yī shí èr.
        if !(u == 10 && d == 1 && !started) {
            words.push(DIGITS[d].to_string());
        }
        if !name.is_empty() {
            words.push(name.to_string());
        }
        started = true;
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_beat_the_common_reading() {
        assert_eq!(
            transcribe("请重新放置").pinyin,
            "qing3 chong2 xin1 fang4 zhi4"
        );
        assert_eq!(transcribe("银行").pinyin, "yin2 hang2");
        assert_eq!(transcribe("行驶证").pinyin, "xing2 shi3 zheng4");
    }

    #[test]
    fn longest_override_wins() {
        assert_eq!(transcribe("朝阳区").pinyin, "chao2 yang2 qu1");
        assert_eq!(transcribe("好差评").pinyin, "hao3 cha4 ping2");
    }

    #[test]
    fn digits_letters_and_pauses() {
        let t = transcribe("A023号，请取票。");
        assert_eq!(t.pinyin, "A ling2 er4 san1 hao4, qing3 qu3 piao4.");
        assert!(t.unread.is_empty());
    }

    #[test]
    fn neutral_tone_is_five() {
        assert_eq!(transcribe("我的").pinyin, "wo3 de5");
    }

    #[test]
    fn codes_and_counts() {
        assert_eq!(code_pinyin("K1-A007"), "K yi1 A ling2 ling2 qi1");
        assert_eq!(code_english("A023"), "A, zero, 2, 3");
        assert_eq!(count_pinyin(12), "shi2 er4");
        assert_eq!(count_pinyin(2), "liang3");
        assert_eq!(count_pinyin(105), "yi1 bai3 ling2 wu3");
        assert_eq!(count_pinyin(30), "san1 shi2");
        assert_eq!(count_pinyin(0), "ling2");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "",
            "😀",
            "\u{0}",
            "ＡＢＣ",
            "𠀀",
            "a\u{301}",
            "。。。",
            "，",
        ] {
            let _ = transcribe(s);
            let _ = code_pinyin(s);
        }
    }
}
