//! Arbitrary bytes, in arbitrary splits, into the ESC/POS command parser and page model (the
//! printer simulator and `print preview`), and into the status reply reader (the driver). None may
//! panic; the parser may not hold more than one command's worth of bytes.
#![no_main]

use hallkiosk_drivers::printer::page::Page;
use hallkiosk_drivers::printer::parse::Parser;
use hallkiosk_drivers::printer::status::ReplyReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, bytes) = data.split_at(data.len().min(2));
    let step = usize::from(head.first().copied().unwrap_or(16)).max(1);
    let mut parser = Parser::new(head.get(1).is_some_and(|b| b & 1 == 1));
    let mut page = Page::new(384, true);
    let mut replies = ReplyReader::new();
    for chunk in bytes.chunks(step) {
        for op in parser.push(chunk) {
            page.apply(&op);
        }
        // The largest command: GS v 0 with 255 × 4096 bytes of raster.
        assert!(parser.pending() <= 8 + 255 * 4096);
        let _ = replies.push(chunk);
    }
    if page.items.len() < 64 {
        let _ = page.render(None);
    }
});
