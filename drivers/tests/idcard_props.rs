//! Property tests of the ID-card codec: any split, any garbage between frames, any text block.

use hallkiosk_drivers::idcard::frame::{encode_frame, FrameDecoder, MAX_LEN};
use hallkiosk_drivers::idcard::text;
use hallkiosk_drivers::sim::fixtures::CardFixture;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Frames separated by garbage without 0xAA, delivered in random chunks, all come out intact
    /// and in order.
    #[test]
    fn frames_survive_garbage_and_any_split(
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 1..8),
        garbage in prop::collection::vec(prop::collection::vec(0u8..0xAA, 0..20), 8),
        cuts in prop::collection::vec(1usize..200, 1..50),
    ) {
        let mut stream = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            stream.extend(&garbage[i]);
            stream.extend(encode_frame(body));
        }
        let mut d = FrameDecoder::new();
        let mut out = Vec::new();
        let mut at = 0;
        let mut k = 0;
        while at < stream.len() {
            let end = (at + cuts[k % cuts.len()]).min(stream.len());
            d.push(&stream[at..end]);
            while let Some(frame) = d.next_body() {
                out.push(frame.expect("no errors in clean frames"));
            }
            at = end;
            k += 1;
        }
        prop_assert_eq!(out, bodies);
        prop_assert_eq!(d.pending(), 0);
    }

    /// Random bytes never panic the decoder and never grow its buffer past one frame.
    #[test]
    fn random_bytes_stay_bounded(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..40)) {
        let mut d = FrameDecoder::new();
        for c in &chunks {
            d.push(c);
            while d.next_body().is_some() {}
            prop_assert!(d.pending() <= MAX_LEN + 7 + c.len());
        }
    }

    /// Any 256 bytes parse to a card or a named error; never a panic.
    #[test]
    fn any_text_block_parses_or_errs(block in prop::collection::vec(any::<u8>(), 256), tag in prop::sample::select(vec![0u8, b'I', b'J', b'Y'])) {
        let mut block = block;
        if tag != 0 {
            block[248] = tag;
            block[249] = 0;
        }
        let _ = text::parse(&block, "2026-11-23");
    }

    /// Cards with any name that fits (1–15 Han characters) round trip through the text block.
    #[test]
    fn names_that_fit_round_trip(name in "[\u{4e00}-\u{9fa5}·]{1,15}") {
        prop_assume!(!name.ends_with(' '));
        let mut card = CardFixture::Resident.card();
        card.name = name.clone();
        let block = text::encode(&card).unwrap();
        prop_assert_eq!(&text::parse(&block, "").unwrap().name, &name);
    }
}
