//! Arbitrary bytes, in arbitrary splits, into everything that parses reader output: the frame
//! decoder, the response and read-data parsers and the text-block parser; and into the simulator,
//! which parses host requests. None may panic; the decoder's buffer must stay bounded.
#![no_main]

use hallkiosk_drivers::idcard::frame::{CardData, FrameDecoder, Response, MAX_LEN};
use hallkiosk_drivers::idcard::text;
use hallkiosk_drivers::sim::sam::{SamDevice, SamState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (splits, bytes) = data.split_at(data.len().min(4));
    let mut decoder = FrameDecoder::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let step = usize::from(splits.get(i % splits.len().max(1)).copied().unwrap_or(7)).max(1);
        let (chunk, tail) = rest.split_at(step.min(rest.len()));
        decoder.push(chunk);
        while let Some(frame) = decoder.next_body() {
            if let Ok(body) = frame {
                if let Ok(r) = Response::from_body(&body) {
                    let _ = CardData::parse(&r.data, false);
                    let _ = CardData::parse(&r.data, true);
                }
            }
        }
        assert!(decoder.pending() <= MAX_LEN + 7 + chunk.len());
        rest = tail;
        i += 1;
    }
    if bytes.len() >= text::TEXT_LEN {
        let _ = text::parse(&bytes[..text::TEXT_LEN], "2026-11-23");
    }
    let mut device = SamDevice::new();
    let mut state = SamState::default();
    state.place_fixture(hallkiosk_drivers::sim::fixtures::CardFixture::Resident);
    let _ = device.receive(&mut state, bytes);
});
