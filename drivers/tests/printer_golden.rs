//! Golden bytes: a representative receipt, byte for byte, for each printer profile. The files in
//! `tests/golden/` were checked by decoding them with the simulator's parser and by printing the
//! PNG preview; a change to the encoder that alters them must be looked at, then blessed with
//! `HALLKIOSK_BLESS=1 cargo test -p hallkiosk-drivers --test printer_golden`.

use hallkiosk_drivers::printer::receipt::{encode, Align, Profile, Receipt};
use hallkiosk_drivers::printer::testpage::emblem;

fn representative() -> Receipt {
    Receipt::new()
        .image(emblem(96), Align::Centre)
        .styled("政务服务受理回执", Align::Centre, (2, 2), true)
        .text("事项：居民身份证换领")
        .text("受理编号：HK-K001-000042-7")
        .text("时间：2026-11-23 10:15  终端：K001")
        .styled("网络恢复后自动提交", Align::Left, (1, 1), true)
        .qr("HK-K001-000042-7|9f2c1a", 5)
        .feed(1)
}

#[test]
fn representative_receipts_match_their_golden_bytes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for profile in [
        Profile::generic_80mm(),
        Profile::generic_58mm(),
        Profile::epson_80mm(),
    ] {
        let bytes = encode(&representative(), &profile, None).unwrap();
        let path = dir.join(format!("receipt-{}.bin", profile.name));
        if std::env::var_os("HALLKIOSK_BLESS").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        let golden = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if bytes != golden {
            let at = bytes
                .iter()
                .zip(&golden)
                .position(|(a, b)| a != b)
                .unwrap_or(bytes.len().min(golden.len()));
            panic!(
                "{}: bytes differ from {} at offset {at} (lengths {} and {})",
                profile.name,
                path.display(),
                bytes.len(),
                golden.len()
            );
        }
    }
}
