//! `scripts/flash` on disk-image files: writes and verifies; a flipped bit is caught with its
//! offset; with a block map only mapped blocks are written and checked; the disk holding `/`, a
//! mounted target and a too-small target are refused (the mount table is a fake one here).

use std::path::Path;
use std::process::{Command, Output};

fn flash(args: &[&str], mounts: Option<&Path>) -> Output {
    let mut cmd = Command::new("scripts/flash");
    cmd.args(args);
    if let Some(m) = mounts {
        cmd.env("FLASH_PROC_MOUNTS", m);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

fn flip_bit(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn writes_verifies_and_names_the_first_bad_offset() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("kiosk.img");
    let target = dir.path().join("disk");
    std::fs::write(&image, pseudo_random(6 << 20, 7)).unwrap();
    let (i, t) = (image.to_str().unwrap(), target.to_str().unwrap());
    let out = flash(&[i, t], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("100%"),
        "a progress bar: {}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&image).unwrap(),
        std::fs::read(&target).unwrap()
    );

    flip_bit(&target, 5_000_000);
    let out = flash(&["--verify-only", i, t], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("first bad byte at offset 5000000"),
        "{}",
        stderr(&out)
    );
    // Flashing again repairs it.
    assert!(flash(&[i, t], None).status.success());
    assert!(flash(&["--verify-only", i, t], None).status.success());
}

#[test]
fn with_a_block_map_only_mapped_blocks_are_written_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("kiosk.img");
    let bmap = dir.path().join("kiosk.bmap");
    let target = dir.path().join("disk");
    let mut bytes = pseudo_random(8 << 20, 11);
    // Blocks 256..1023 and 1280.. are holes (zeros) in the image and not in the map.
    bytes[(1 << 20)..(4 << 20)].fill(0);
    bytes[(5 << 20)..].fill(0);
    std::fs::write(&image, &bytes).unwrap();
    std::fs::write(
        &bmap,
        "<?xml version=\"1.0\" ?>\n<bmap version=\"2.0\">\n  <ImageSize> 8388608 </ImageSize>\n  \
         <BlockSize> 4096 </BlockSize>\n  <BlocksCount> 2048 </BlocksCount>\n  \
         <MappedBlocksCount> 512 </MappedBlocksCount>\n  <BlockMap>\n    \
         <Range chksum=\"x\"> 0-255 </Range>\n    <Range chksum=\"y\"> 1024-1279 </Range>\n  \
         </BlockMap>\n</bmap>\n",
    )
    .unwrap();
    std::fs::write(&target, vec![0xAAu8; 8 << 20]).unwrap();
    let (i, t, b) = (
        image.to_str().unwrap(),
        target.to_str().unwrap(),
        bmap.to_str().unwrap(),
    );
    let out = flash(&["--bmap", b, i, t], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read(&target).unwrap();
    assert_eq!(written[..1 << 20], bytes[..1 << 20]);
    assert_eq!(written[(4 << 20)..(5 << 20)], bytes[(4 << 20)..(5 << 20)]);
    assert!(
        written[(2 << 20)..(3 << 20)].iter().all(|&b| b == 0xAA),
        "unmapped blocks are left alone"
    );
    // A flipped bit in an unmapped block is not the image's business; in a mapped one it is.
    flip_bit(&target, 2 << 20);
    assert!(flash(&["--bmap", b, "--verify-only", i, t], None)
        .status
        .success());
    flip_bit(&target, (4 << 20) + 12345);
    let out = flash(&["--bmap", b, "--verify-only", i, t], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("offset {}", (4 << 20) + 12345)),
        "{}",
        stderr(&out)
    );
}

#[test]
fn refuses_the_root_disk_mounted_targets_and_small_targets() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("kiosk.img");
    let target = dir.path().join("disk");
    std::fs::write(&image, pseudo_random(2 << 20, 3)).unwrap();
    std::fs::write(&target, vec![0u8; 4 << 20]).unwrap();
    let (i, t) = (image.to_str().unwrap(), target.to_str().unwrap());
    let mounts = dir.path().join("mounts");

    std::fs::write(
        &mounts,
        format!("{t} / ext4 rw 0 0\nproc /proc proc rw 0 0\n"),
    )
    .unwrap();
    let out = flash(&[i, t], Some(&mounts));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("holds /"), "{}", stderr(&out));

    std::fs::write(
        &mounts,
        format!("overlay / overlay rw 0 0\n{t} /media/stick vfat rw 0 0\n"),
    )
    .unwrap();
    let out = flash(&[i, t], Some(&mounts));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("mounted on: /media/stick"),
        "{}",
        stderr(&out)
    );

    std::fs::write(&target, vec![0u8; 1 << 20]).unwrap();
    let out = flash(&[i, t], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the image needs"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        vec![0u8; 1 << 20],
        "nothing written"
    );

    let out = flash(&[i], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(flash(&["--help"], None).status.success());
}
