//! The live scan loop: frames from a [`FrameSource`] through the decoder's cheap attempt into
//! [`DeviceEvent::CodeScanned`], with duplicate suppression. A bad frame is skipped; a camera that
//! fails is reported once as a fault and reopened with backoff; the loop ends when the events'
//! receiver is dropped or a file source runs out.

use super::decode::{Decode, QrDecoder};
use super::source::{CameraError, FrameSource};
use crate::event::{DeviceEvent, DeviceKind};
use crate::fault::FaultReporter;
use crate::scanner::{Dedup, ScanPayload};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Opens the source (called again after every fault).
pub type SourceOpener = Box<dyn FnMut() -> Result<Box<dyn FrameSource>, CameraError> + Send>;

/// Counters of one run (the benchmark reports them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanStats {
    pub frames: u64,
    pub bad_frames: u64,
    pub codes: u64,
}

/// Runs the loop until `events` has no receiver or the source ends. The same code again within
/// `repeat` is one scan (the kiosk passes `[scanner] repeat_ms`).
pub fn run(
    mut open: SourceOpener,
    events: UnboundedSender<DeviceEvent>,
    repeat: Duration,
) -> ScanStats {
    let decoder = QrDecoder::default();
    let mut dedup = Dedup::new(repeat);
    let mut stats = ScanStats::default();
    let mut health = FaultReporter::new(
        &events,
        DeviceKind::Camera,
        Duration::from_millis(500),
        Duration::from_secs(10),
    );
    while !events.is_closed() {
        let mut source = match open() {
            Ok(source) => source,
            Err(e) => {
                health.failed(e.to_string());
                continue;
            }
        };
        while !events.is_closed() {
            let frame = match source.next_frame() {
                Ok(frame) => frame,
                Err(CameraError::End) => return stats,
                Err(CameraError::BadFrame(e)) => {
                    stats.bad_frames += 1;
                    tracing::debug!("camera: skipped a bad frame: {e}");
                    continue;
                }
                Err(e) => {
                    health.failed(e.to_string());
                    break;
                }
            };
            stats.frames += 1;
            health.working();
            let image = match frame.to_gray() {
                Ok(image) => image,
                Err(e) => {
                    stats.bad_frames += 1;
                    tracing::debug!("camera: skipped a bad frame: {e}");
                    continue;
                }
            };
            if let Decode::Code { text, .. } = decoder.decode_live(&image) {
                if dedup.admit(&text, Instant::now()) {
                    stats.codes += 1;
                    let _ = events.send(DeviceEvent::CodeScanned(ScanPayload::new(text)));
                }
            }
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::frame::{Frame, PixelFormat};
    use std::collections::VecDeque;

    /// Frames scripted per opening: `Ok` frames, errors, then (for the last opening) the end.
    struct Scripted(VecDeque<Result<Frame, CameraError>>);

    impl FrameSource for Scripted {
        fn describe(&self) -> String {
            "scripted camera".into()
        }
        fn format(&self) -> (PixelFormat, u32, u32) {
            (PixelFormat::Grey, 0, 0)
        }
        fn next_frame(&mut self) -> Result<Frame, CameraError> {
            self.0.pop_front().unwrap_or(Err(CameraError::End))
        }
    }

    fn code_frame(text: &str) -> Frame {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let width = code.width() as u32;
        let colors = code.to_colors();
        let mut canvas = image::GrayImage::from_pixel(320, 240, image::Luma([255]));
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (mx, my) = (i as u32 % width, i as u32 / width);
                for dy in 0..4 {
                    for dx in 0..4 {
                        canvas.put_pixel(40 + mx * 4 + dx, 20 + my * 4 + dy, image::Luma([0]));
                    }
                }
            }
        }
        // As YUYV, the way a camera sends it.
        let data = canvas.as_raw().iter().flat_map(|&y| [y, 128]).collect();
        Frame {
            format: PixelFormat::Yuyv,
            width: 320,
            height: 240,
            data,
        }
    }

    #[test]
    fn decodes_frames_skips_bad_ones_and_survives_an_unplug() {
        let mut openings = 0;
        let opener: SourceOpener = Box::new(move || {
            openings += 1;
            let script: Vec<Result<Frame, CameraError>> = match openings {
                1 => vec![
                    Ok(code_frame("HK-1")),
                    Ok(code_frame("HK-1")), // still in view: one scan
                    Ok(Frame {
                        format: PixelFormat::Yuyv,
                        width: 320,
                        height: 240,
                        data: vec![0; 10], // truncated
                    }),
                    Err(CameraError::Unplugged("/dev/video0".into())),
                ],
                2 => return Err(CameraError::Busy("/dev/video0".into())),
                _ => vec![Ok(code_frame("EID:2"))],
            };
            Ok(Box::new(Scripted(script.into())) as Box<dyn FrameSource>)
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let stats = run(opener, tx, Duration::from_millis(1500));
        let mut seen = Vec::new();
        while let Ok(event) = rx.try_recv() {
            seen.push(match event {
                DeviceEvent::CodeScanned(p) => format!("scan {}", p.text),
                DeviceEvent::DeviceFault { reason, .. } => format!("fault {reason}"),
                DeviceEvent::DeviceRecovered { .. } => "recovered".into(),
                other => format!("{other:?}"),
            });
        }
        assert_eq!(
            seen,
            [
                "scan HK-1",
                "fault /dev/video0 is gone (unplugged?)",
                "fault /dev/video0 is busy (another program is using the camera)",
                "recovered",
                "scan EID:2"
            ]
        );
        assert_eq!(stats.codes, 2);
        assert_eq!(stats.bad_frames, 1);
        assert_eq!(stats.frames, 4);
    }
}
