//! QR benchmark: hallkiosk's decoder and zbarimg (Debian zbar-tools, default settings) over the whole corpus
//! in one run, plus the live scan rate on 640×480 YUYV frames. Run by `scripts/bench-qr`.
//!
//! Per image, both sides are timed from the file to the answer (load + decode):
//! - ours: in process, the median of `ROUNDS` runs;
//! - zbarimg: one process reading the file once and one reading it `1 + K` times; the difference
//!   divided by K is its per-image cost without process start-up; median of `ROUNDS`.
//!
//! Reported: decoded/total, misreads, false positives, median and mean ms per image, ratios.

#[path = "../tests/support/corpus.rs"]
mod corpus;

use corpus::{judge, Verdict};
use hallkiosk_drivers::camera::frame::{load_gray, Frame, PixelFormat};
use hallkiosk_drivers::camera::QrDecoder;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;
const K: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[derive(Default)]
struct Tally {
    decoded: usize,
    expected: usize,
    misreads: usize,
    false_positives: usize,
    ms: Vec<f64>,
}

impl Tally {
    fn add(&mut self, verdict: Verdict, ms: f64) {
        match verdict {
            Verdict::Decoded => self.decoded += 1,
            Verdict::Misread => self.misreads += 1,
            Verdict::FalsePositive => self.false_positives += 1,
            Verdict::Missed | Verdict::Quiet => {}
        }
        if matches!(
            verdict,
            Verdict::Decoded | Verdict::Missed | Verdict::Misread
        ) {
            self.expected += 1;
        }
        self.ms.push(ms);
    }
}

/// zbarimg's symbols for one file (XML output keeps multi-line texts whole).
fn zbar_texts(xml: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<data><![CDATA[") {
        rest = &rest[start + 15..];
        let Some(end) = rest.find("]]></data>") else {
            break;
        };
        texts.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    texts
}

fn zbar(files: &[&Path]) -> (Duration, String) {
    let started = Instant::now();
    let out = Command::new("zbarimg")
        .args(["--xml", "-q"])
        .args(files)
        .output()
        .expect("zbarimg (scripts/setup installs zbar-tools)");
    (
        started.elapsed(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn main() {
    let samples = corpus::samples();
    let decoder = QrDecoder::default();
    let (mut ours, mut theirs) = (Tally::default(), Tally::default());
    let mut per_image_ratio = Vec::new();
    for sample in &samples {
        // Ours: load + full pipeline.
        let mut times = Vec::new();
        let mut text = None;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let image = load_gray(&sample.path).expect("corpus image");
            let outcome = decoder.decode(&image);
            times.push(started.elapsed().as_secs_f64() * 1e3);
            text = outcome.text().map(str::to_string);
        }
        let our_ms = median(times);
        ours.add(judge(sample.expected.as_deref(), text.as_deref()), our_ms);

        // zbarimg: once, and 1 + K times in one process.
        let once = [sample.path.as_path()];
        let many: Vec<&Path> = std::iter::repeat_n(sample.path.as_path(), 1 + K).collect();
        let mut costs = Vec::new();
        let mut found = Vec::new();
        for _ in 0..ROUNDS {
            let (t1, xml) = zbar(&once);
            let (tk, _) = zbar(&many);
            costs.push(((tk.as_secs_f64() - t1.as_secs_f64()) / K as f64 * 1e3).max(0.0));
            found = zbar_texts(&xml);
        }
        let zbar_ms = median(costs);
        let zbar_text = match (&sample.expected, found.as_slice()) {
            (_, []) => None,
            (Some(e), texts) if texts.contains(e) => Some(e.clone()),
            (_, [first, ..]) => Some(first.clone()),
        };
        theirs.add(
            judge(sample.expected.as_deref(), zbar_text.as_deref()),
            zbar_ms,
        );
        if zbar_ms > 0.0 {
            per_image_ratio.push(our_ms / zbar_ms);
        }
    }

    // Live scanning: 640×480 YUYV frames made from the corpus codes, the cheap attempt per frame.
    let frames: Vec<Frame> = samples
        .iter()
        .filter(|s| s.expected.is_some())
        .map(|s| {
            let image = load_gray(&s.path).unwrap();
            let image = if image.width() > 600 || image.height() > 440 {
                image::imageops::resize(&image, 600, 440, image::imageops::FilterType::Triangle)
            } else {
                image
            };
            let mut canvas = image::GrayImage::from_pixel(640, 480, image::Luma([235]));
            image::imageops::overlay(&mut canvas, &image, 20, 20);
            Frame {
                format: PixelFormat::Yuyv,
                width: 640,
                height: 480,
                data: canvas.as_raw().iter().flat_map(|&y| [y, 128]).collect(),
            }
        })
        .collect();
    let mut rates = Vec::new();
    let mut live_decoded = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        live_decoded = 0;
        for frame in &frames {
            let image = frame.to_gray().unwrap();
            if decoder.decode_live(&image).text().is_some() {
                live_decoded += 1;
            }
        }
        rates.push(frames.len() as f64 / started.elapsed().as_secs_f64());
    }
    let fps = median(rates);

    let row = |name: &str, t: &Tally| {
        println!(
            "| {name} | {}/{} | {} | {} | {:.2} | {:.2} |",
            t.decoded,
            t.expected,
            t.misreads,
            t.false_positives,
            median(t.ms.clone()),
            mean(&t.ms)
        )
    };
    println!(
        "corpus: {} images ({} with a code)",
        samples.len(),
        ours.expected
    );
    println!(
        "| decoder | decoded | misreads | false positives | median ms/image | mean ms/image |"
    );
    println!("|---|---|---|---|---|---|");
    row("hallkiosk (rxing + rqrr pipeline)", &ours);
    row("zbarimg 0.23.92", &theirs);
    println!(
        "ratios hallkiosk/zbar: decoded {:.2}, median ms {:.2}, mean ms {:.2}, median of per-image ratios {:.2}",
        ours.decoded as f64 / theirs.decoded.max(1) as f64,
        median(ours.ms.clone()) / median(theirs.ms.clone()),
        mean(&ours.ms) / mean(&theirs.ms),
        median(per_image_ratio),
    );
    println!(
        "live scan loop, 640x480 YUYV, cheap attempt: {fps:.0} frames/s ({live_decoded}/{} frames decoded)",
        frames.len()
    );
}
