//! Receipt encoding benchmark (run: `scripts/bench-receipt`, which also runs the python-escpos
//! peer; or alone: `cargo bench -p hallkiosk-drivers --bench receipt`).
//!
//! A typical receipt: a 160-dot logo (dithered once, as the kiosk does at start-up), a title,
//! 20 Chinese lines, a native QR code, feed and cut, for the 80 mm profile. Median of 500 builds.
//! Prints one machine-readable line: `receipt_encode_median_us <value>`.

use hallkiosk_drivers::printer::receipt::{encode, Align, Profile, Receipt};
use hallkiosk_drivers::printer::testpage::emblem;
use std::time::Instant;

fn typical() -> Receipt {
    let mut r = Receipt::new().image(emblem(160), Align::Centre).styled(
        "政务服务受理回执",
        Align::Centre,
        (2, 2),
        true,
    );
    for i in 0..20 {
        r = r.text(format!(
            "第{i:02}行：居民身份证换领 受理编号 HK-K001-000042-7"
        ));
    }
    r.qr("HK-K001-000042-7|9f2c1a", 6).feed(1)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("receipt bench: run with `cargo bench` to measure");
        return;
    }
    let receipt = typical();
    let profile = Profile::generic_80mm();
    let mut times = Vec::new();
    let mut len = 0;
    for _ in 0..520 {
        let t = Instant::now();
        let bytes = encode(&receipt, &profile, None).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e6);
        len = std::hint::black_box(bytes).len();
    }
    times.drain(..20);
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    let t = Instant::now();
    let _ = std::hint::black_box(emblem(160));
    let dither_us = t.elapsed().as_secs_f64() * 1e6;
    println!(
        "typical receipt ({len} bytes), 80 mm, median of 500: {median:.1} µs (target <= 2000 µs)"
    );
    println!("logo dithering (once at start-up): {dither_us:.0} µs");
    println!("receipt_encode_median_us {median:.2}");
}
