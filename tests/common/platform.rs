//! The `hallkiosk-platform` binary for tests that run the real platform process (built on demand:
//! it is another package of the workspace, so cargo does not build it for this one's tests).

use std::path::PathBuf;
use std::process::Command;

pub fn platform_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk")).with_file_name("hallkiosk-platform");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args([
                "build",
                "-p",
                "hallkiosk-platform",
                "--bin",
                "hallkiosk-platform",
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "build hallkiosk-platform");
    }
    bin
}
