//! Arbitrary bytes into the serial scanner codec (in arbitrary splits, with and without a suffix)
//! and, as (code, value) pairs, into the keyboard-wedge decoder. None may panic; neither may hold
//! more than its limit.
#![no_main]

use hallkiosk_drivers::scanner::keymap::{KeyDecoder, KeymapSettings};
use hallkiosk_drivers::scanner::serial::{Framing, SerialCodec};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let (head, bytes) = data.split_at(data.len().min(1));
    let step = usize::from(head.first().copied().unwrap_or(7)).max(1);
    for suffix in [vec![0x0D], vec![], vec![b'C', 0x09]] {
        let framing = Framing { prefix: b"B".to_vec(), suffix, max_len: 256 };
        let mut codec = SerialCodec::new(framing);
        for chunk in bytes.chunks(step) {
            let _ = codec.push(chunk);
        }
        let _ = codec.flush_idle();
    }
    let mut keys = KeyDecoder::new(KeymapSettings { max_len: 256, ..KeymapSettings::default() });
    for (i, pair) in bytes.chunks(3).enumerate() {
        let code = u16::from(pair[0]) | (u16::from(*pair.get(1).unwrap_or(&0)) & 1) << 8;
        let value = i32::from(*pair.get(2).unwrap_or(&1) % 3);
        let _ = keys.key(code, value, Duration::from_millis(i as u64));
    }
});
