//! Property tests of the printer codecs: random bytes never panic the ESC/POS parser, the page
//! model or the status reader; receipts survive any split.

use hallkiosk_drivers::printer::page::Page;
use hallkiosk_drivers::printer::parse::{Op, Parser};
use hallkiosk_drivers::printer::receipt::{encode, Profile, Receipt};
use hallkiosk_drivers::printer::status::{Reply, ReplyReader};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000), step in 1usize..300) {
        let mut parser = Parser::new(true);
        let mut page = Page::new(576, true);
        let mut replies = ReplyReader::new();
        for chunk in bytes.chunks(step) {
            for op in parser.push(chunk) {
                page.apply(&op);
            }
            let _ = replies.push(chunk);
        }
        let _ = page.render(None);
    }

    #[test]
    fn receipts_parse_the_same_in_any_split(
        lines in prop::collection::vec("[a-zA-Z0-9 \u{4e00}-\u{9fa5}]{0,20}", 1..10),
        code in "[A-Z0-9-]{1,40}",
        step in 1usize..64,
    ) {
        let mut r = Receipt::new();
        for l in &lines {
            r = r.text(l.clone());
        }
        let bytes = encode(&r.qr(code.clone(), 4), &Profile::generic_80mm(), None).unwrap();
        let mut page = Page::new(576, true);
        let mut parser = Parser::new(true);
        for chunk in bytes.chunks(step) {
            for op in parser.push(chunk) {
                prop_assert!(!matches!(op, Op::Unknown(_) | Op::Invalid(_)), "{:?}", op);
                page.apply(&op);
            }
        }
        prop_assert_eq!(page.text_lines(), lines);
        prop_assert_eq!(page.cuts(), 1);
    }

    #[test]
    fn every_status_byte_is_one_reply(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let got = ReplyReader::new().push(&bytes);
        let asb_bytes: usize = got.iter().map(|r| if matches!(r, Reply::Asb(_)) { 4 } else { 1 }).sum();
        prop_assert!(asb_bytes <= bytes.len());
    }
}
