//! ID-card reader benchmarks (run: `cargo bench -p hallkiosk-drivers --bench idcard`).
//!
//! 1. **Card read over a pty.** find → select → read (30 01) → parsed `IdCard`, against the
//!    simulator pacing its replies at 115200 baud 8N1, median of 25 reads. Compared with
//!    - the wire time of the 1295-byte read response (the yardstick, 112.4 ms), and
//!    - a peer: the same simulator, same requests and pacing, read through a plain serial port by
//!      a client that knows the reply lengths in advance (no frame decoder, no parsing).
//! 2. **Frame decoder throughput.** 1295-byte frames fed in 64-byte chunks, against a copy+XOR
//!    baseline over the same bytes (the least work any decoder must do), median of 15 runs.

use hallkiosk_drivers::idcard::frame::{
    encode_frame, CardData, Command, FrameDecoder, Response, Sw3,
};
use hallkiosk_drivers::idcard::reader::{ReadOptions, Reader, Timeouts};
use hallkiosk_drivers::idcard::serial::SerialLink;
use hallkiosk_drivers::idcard::text;
use hallkiosk_drivers::sim::fixtures::CardFixture;
use hallkiosk_drivers::sim::sam::{PtySam, SamState};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const BAUD: u32 = 115_200;
const READS: usize = 25;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn wire_ms(bytes: usize) -> f64 {
    bytes as f64 * 10.0 / f64::from(BAUD) * 1000.0
}

/// The three replies of a card read, as the simulator sends them.
fn replies() -> Vec<Vec<u8>> {
    let card = CardFixture::Resident.card();
    let data = CardData {
        text: text::encode(&card).unwrap().to_vec(),
        photo: card.photo.clone(),
        fingerprints: Vec::new(),
    };
    let with = |sw3, data| {
        Response {
            sw1: 0,
            sw2: 0,
            sw3,
            data,
        }
        .encode()
    };
    vec![
        with(Sw3::FindSuccess, vec![0; 4]),
        with(Sw3::Success, vec![0; 8]),
        with(Sw3::Success, data.encode(false)),
    ]
}

fn driver_reads() -> Vec<f64> {
    let mut state = SamState::default();
    state.baud = BAUD;
    let sim = PtySam::start(state).unwrap();
    let mut reader = Reader::new(
        SerialLink::open(sim.path(), BAUD).unwrap(),
        Timeouts::default(),
    );
    let mut times = Vec::new();
    for _ in 0..READS + 2 {
        sim.control().place_fixture(CardFixture::Resident);
        let t = Instant::now();
        let card = reader
            .read_card(ReadOptions::default(), "2026-11-23")
            .unwrap()
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(
            card.card_type,
            hallkiosk_drivers::idcard::CardType::Resident
        );
    }
    times.drain(..2); // warm-up
    times
}

/// The peer: the same simulator answering the same requests, pulled through a plain serial port
/// by a client that knows the reply lengths in advance (no decoder, no parsing).
fn raw_pty_transfers() -> Vec<f64> {
    let mut state = SamState::default();
    state.baud = BAUD;
    let sim = PtySam::start(state).unwrap();
    let mut port = serialport::new(sim.path(), BAUD)
        .timeout(Duration::from_secs(2))
        .open_native()
        .unwrap();
    let requests: Vec<Vec<u8>> = [Command::Find, Command::Select, Command::ReadBase]
        .into_iter()
        .map(Command::encode)
        .collect();
    let sizes = replies_len();
    let mut times = Vec::new();
    let mut buf = vec![0u8; 4096];
    for _ in 0..READS + 2 {
        sim.control().place_fixture(CardFixture::Resident);
        let t = Instant::now();
        for (req, &len) in requests.iter().zip(&sizes) {
            port.write_all(req).unwrap();
            port.read_exact(&mut buf[..len]).unwrap();
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.drain(..2);
    times
}

fn replies_len() -> Vec<usize> {
    replies().iter().map(Vec::len).collect()
}

fn decoder_throughput() -> (f64, f64) {
    let frame = replies().pop().unwrap();
    let stream: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * 2000)
        .collect();
    let mut ours = Vec::new();
    let mut base = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let mut d = FrameDecoder::new();
        let mut frames = 0;
        for chunk in stream.chunks(64) {
            d.push(chunk);
            while let Some(f) = d.next_body() {
                frames += usize::from(f.is_ok());
            }
        }
        ours.push(stream.len() as f64 / t.elapsed().as_secs_f64() / 1e6);
        assert_eq!(frames, 2000);

        let t = Instant::now();
        let mut buf = Vec::with_capacity(frame.len());
        let mut x = 0u8;
        for chunk in stream.chunks(64) {
            buf.extend_from_slice(chunk);
            if buf.len() >= frame.len() {
                x ^= buf.iter().fold(0, |a, b| a ^ b);
                buf.clear();
            }
        }
        std::hint::black_box(x);
        base.push(stream.len() as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    (median(ours), median(base))
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; keep it quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("idcard bench: run with `cargo bench` to measure");
        return;
    }
    let _ = encode_frame; // the codec under test
    let read = median(driver_reads());
    let peer = median(raw_pty_transfers());
    let response_wire = wire_ms(1295);
    let all_wire = wire_ms(replies_len().iter().sum::<usize>() + 3 * 10);
    println!("card read over pty at {BAUD} baud, median of {READS}:");
    println!("  hallkiosk reader (find+select+read+parse): {read:.1} ms");
    println!("  peer: raw paced pty transfer of the same bytes: {peer:.1} ms");
    println!("  wire time of the 1295-byte response: {response_wire:.1} ms; of all bytes both ways: {all_wire:.1} ms");
    println!(
        "  ratio reader / 1295-byte wire time: {:.3} (target <= 1.15)",
        read / response_wire
    );
    println!("  ratio reader / raw pty peer: {:.3}", read / peer);
    let (ours, base) = decoder_throughput();
    println!("frame decoder, 1295-byte frames in 64-byte chunks, median of 15:");
    println!(
        "  FrameDecoder: {ours:.0} MB/s; copy+XOR baseline: {base:.0} MB/s; ratio {:.2}",
        ours / base
    );
    println!(
        "  = {:.0}x the byte rate of a 115200-baud UART",
        ours * 1e6 / (f64::from(BAUD) / 10.0)
    );
}
