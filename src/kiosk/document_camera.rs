//! The document camera's own thread: the live preview on the material step and the captures.
//!
//! One thread owns the camera, because a V4L2 device streams to one reader: while a material step
//! without a photo is on screen the camera stays open and a downscaled frame with the page outlined
//! is offered about five times a second ([`PREVIEW_INTERVAL`]); a capture takes the next full frame
//! from the same open stream. When the preview ends the camera is closed, so nothing holds it
//! between citizens. A camera that cannot be opened is retried every second while the preview is
//! wanted (plugging it back in brings the preview back); a capture reports it as
//! [`CaptureProblem::CameraUnavailable`] and the flow offers 到窗口补交.

use crate::flows::effect::{CaptureProblem, Done, Photo};
use crate::flows::kiosk::Visit;
use hallkiosk_drivers::camera::page::{capture_page, preview, MAX_BYTES};
use hallkiosk_drivers::camera::{FileSource, FrameSource, V4l2Source};
use hallkiosk_drivers::transport::DeviceAddress;
use image::RgbImage;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Time between preview frames (about 5 per second: enough to place a page, cheap on a kiosk CPU).
pub const PREVIEW_INTERVAL: Duration = Duration::from_millis(200);
/// The preview's longest side in pixels.
pub const PREVIEW_SIDE: u32 = 480;
/// How often a camera that would not open is tried again while the preview is wanted.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

enum Job {
    /// Show the preview for this material (its index), or stop it.
    Preview(Option<usize>),
    Capture {
        visit: Visit,
        material: usize,
    },
}

/// A handle to the camera thread; cheap to clone.
#[derive(Clone)]
pub struct DocumentCamera {
    jobs: mpsc::Sender<Job>,
    latest: Arc<Mutex<Option<RgbImage>>>,
}

impl DocumentCamera {
    /// Starts the camera thread for `address`; captures are answered on `done`.
    pub fn start(address: DeviceAddress, done: mpsc::Sender<(Visit, Done)>) -> DocumentCamera {
        let (jobs, rx) = mpsc::channel();
        let latest = Arc::new(Mutex::new(None));
        let slot = latest.clone();
        let spawned = std::thread::Builder::new()
            .name("document-camera".into())
            .spawn(move || run(address, rx, done, slot));
        if let Err(e) = spawned {
            tracing::error!("cannot start the document camera thread: {e}");
        }
        DocumentCamera { jobs, latest }
    }

    /// Starts the preview for material `Some(index)`, or stops it with `None`.
    pub fn preview(&self, material: Option<usize>) {
        let _ = self.jobs.send(Job::Preview(material));
    }

    /// Takes a picture of material `material` for `visit`; the answer is a [`Done::Captured`].
    pub fn capture(&self, visit: Visit, material: usize, done: &mpsc::Sender<(Visit, Done)>) {
        if self.jobs.send(Job::Capture { visit, material }).is_err() {
            let _ = done.send((
                visit,
                Done::Captured {
                    material,
                    result: Err(CaptureProblem::CameraUnavailable),
                },
            ));
        }
    }

    /// The newest preview frame not yet taken.
    pub fn take_preview(&self) -> Option<RgbImage> {
        self.latest.lock().ok()?.take()
    }
}

/// An open camera.
enum Open {
    Device {
        source: Box<dyn FrameSource>,
        v4l2: bool,
    },
}

impl Open {
    fn new(address: &DeviceAddress) -> Result<Open, CaptureProblem> {
        match address {
            DeviceAddress::Sim => {
                // `sim` is resolved to the simulator's frames folder when the kiosk starts.
                tracing::warn!("the simulated document camera was not started");
                Err(CaptureProblem::CameraUnavailable)
            }
            DeviceAddress::Frames { path } => {
                let source = FileSource::open(std::path::Path::new(path), true, None)
                    .map_err(|_| CaptureProblem::CameraUnavailable)?
                    .in_colour();
                Ok(Open::Device {
                    source: Box::new(source),
                    v4l2: false,
                })
            }
            DeviceAddress::V4l2 { path } => {
                let source = V4l2Source::open(path, (1920, 1080)).map_err(|e| {
                    tracing::warn!("document camera: {e}");
                    CaptureProblem::CameraUnavailable
                })?;
                Ok(Open::Device {
                    source: Box::new(source),
                    v4l2: true,
                })
            }
            other => {
                tracing::warn!("a document camera cannot be at {other}");
                Err(CaptureProblem::CameraUnavailable)
            }
        }
    }

    /// The next frame, in colour. `fresh` skips the frames a V4L2 camera has queued (and, just
    /// after opening, the dark ones while exposure settles).
    fn frame(&mut self, fresh: bool) -> Result<RgbImage, CaptureProblem> {
        match self {
            Open::Device { source, v4l2 } => {
                if fresh && *v4l2 {
                    for _ in 0..3 {
                        let _ = source.next_frame();
                    }
                }
                let frame = source
                    .next_frame()
                    .map_err(|_| CaptureProblem::CameraUnavailable)?;
                frame
                    .to_rgb()
                    .map_err(|_| CaptureProblem::CameraUnavailable)
            }
        }
    }
}

fn run(
    address: DeviceAddress,
    jobs: mpsc::Receiver<Job>,
    done: mpsc::Sender<(Visit, Done)>,
    latest: Arc<Mutex<Option<RgbImage>>>,
) {
    let publish = |frame: Option<RgbImage>| {
        if let Ok(mut slot) = latest.lock() {
            *slot = frame;
        }
    };
    // The material being previewed, the open camera, and when to try opening it again.
    let mut previewing: Option<usize> = None;
    let mut camera: Option<Open> = None;
    let mut next_frame = Instant::now();
    let mut reopen_at = Instant::now();
    loop {
        let job = match previewing {
            None => match jobs.recv() {
                Ok(job) => Some(job),
                Err(_) => return,
            },
            Some(_) => {
                match jobs.recv_timeout(next_frame.saturating_duration_since(Instant::now())) {
                    Ok(job) => Some(job),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        };
        match job {
            Some(Job::Preview(material)) => {
                if material != previewing {
                    if material.is_none() {
                        camera = None;
                    }
                    previewing = material;
                    publish(None);
                    next_frame = Instant::now();
                    reopen_at = Instant::now();
                }
            }
            Some(Job::Capture { visit, material }) => {
                let result = capture(&address, &mut camera);
                if result.is_err() {
                    camera = None;
                }
                if previewing.is_none() {
                    camera = None;
                }
                let _ = done.send((visit, Done::Captured { material, result }));
            }
            None => {
                next_frame = Instant::now() + PREVIEW_INTERVAL;
                if previewing.is_none() {
                    continue;
                }
                if camera.is_none() && Instant::now() >= reopen_at {
                    camera = Open::new(&address).ok();
                    if camera.is_none() {
                        reopen_at = Instant::now() + REOPEN_AFTER;
                    }
                }
                if let Some(open) = camera.as_mut() {
                    match open.frame(false) {
                        Ok(picture) => publish(Some(preview(&picture, PREVIEW_SIDE))),
                        Err(_) => {
                            tracing::warn!("document camera: no preview frame; reopening");
                            camera = None;
                            reopen_at = Instant::now() + REOPEN_AFTER;
                            publish(None);
                        }
                    }
                }
            }
        }
    }
}

/// One picture, its page cropped and compressed; from the open camera when the preview has one.
fn capture(address: &DeviceAddress, camera: &mut Option<Open>) -> Result<Photo, CaptureProblem> {
    if camera.is_none() {
        *camera = Some(Open::new(address)?);
    }
    let Some(open) = camera.as_mut() else {
        return Err(CaptureProblem::CameraUnavailable);
    };
    let picture = open.frame(true)?;
    let page = capture_page(&picture, MAX_BYTES).map_err(|_| CaptureProblem::NoPage)?;
    Ok(Photo {
        jpeg: page.jpeg,
        width: page.width,
        height: page.height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    const VISIT: Visit = Visit::FIRST;

    use hallkiosk_drivers::camera::page::simulated_document;
    fn wait_preview(camera: &DocumentCamera, limit: Duration) -> Option<RgbImage> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(p) = camera.take_preview() {
                return Some(p);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn captured(rx: &mpsc::Receiver<(Visit, Done)>) -> (usize, Result<Photo, CaptureProblem>) {
        match rx.recv_timeout(Duration::from_secs(10)).unwrap().1 {
            Done::Captured { material, result } => (material, result),
            _ => panic!("not a capture"),
        }
    }

    #[test]
    fn a_frames_camera_previews_then_captures_from_the_open_stream() {
        let dir = tempfile::tempdir().unwrap();
        simulated_document(1280, 960, 3)
            .save(dir.path().join("page-0001.png"))
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let camera = DocumentCamera::start(
            DeviceAddress::Frames {
                path: dir.path().display().to_string(),
            },
            tx.clone(),
        );
        assert!(camera.take_preview().is_none(), "no preview until asked");
        camera.preview(Some(0));
        let first = wait_preview(&camera, Duration::from_secs(5)).expect("a preview frame");
        assert_eq!(first.dimensions(), (480, 360));
        // Frames keep coming, about five a second.
        let started = Instant::now();
        let mut frames = 0;
        while started.elapsed() < Duration::from_millis(1100) {
            if camera.take_preview().is_some() {
                frames += 1;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!((3..=7).contains(&frames), "{frames} frames in 1.1 s");
        camera.capture(VISIT, 0, &tx);
        let (material, photo) = captured(&rx);
        assert_eq!(material, 0);
        let photo = photo.unwrap();
        assert!(photo.jpeg.len() <= MAX_BYTES);
        // Stopped: no more frames.
        camera.preview(None);
        std::thread::sleep(PREVIEW_INTERVAL * 2);
        let _ = camera.take_preview();
        std::thread::sleep(PREVIEW_INTERVAL * 2);
        assert!(camera.take_preview().is_none(), "the preview stopped");
    }

    #[test]
    fn a_missing_camera_gives_no_preview_and_an_unavailable_capture() {
        let (tx, rx) = mpsc::channel();
        let camera = DocumentCamera::start(
            DeviceAddress::Frames {
                path: "/nonexistent/camera".into(),
            },
            tx.clone(),
        );
        camera.preview(Some(0));
        assert!(wait_preview(&camera, Duration::from_millis(600)).is_none());
        camera.capture(VISIT, 0, &tx);
        assert_eq!(
            captured(&rx).1.unwrap_err(),
            CaptureProblem::CameraUnavailable
        );
    }

    #[test]
    fn a_camera_plugged_in_while_previewing_is_picked_up() {
        let dir = tempfile::tempdir().unwrap();
        let frames = dir.path().join("frames");
        let (tx, _rx) = mpsc::channel();
        let camera = DocumentCamera::start(
            DeviceAddress::Frames {
                path: frames.display().to_string(),
            },
            tx,
        );
        camera.preview(Some(0));
        assert!(wait_preview(&camera, Duration::from_millis(500)).is_none());
        std::fs::create_dir_all(&frames).unwrap();
        simulated_document(640, 480, 1)
            .save(frames.join("f.png"))
            .unwrap();
        assert!(
            wait_preview(&camera, Duration::from_secs(5)).is_some(),
            "retried and opened"
        );
    }

    #[test]
    fn the_simulated_camera_shows_its_page_in_colour() {
        let dir = tempfile::tempdir().unwrap();
        let rig =
            hallkiosk_drivers::sim::rig::SimRig::start(hallkiosk_drivers::sim::rig::RigSettings {
                scanner_framing: Default::default(),
                scanner_trigger: hallkiosk_drivers::scanner::serial::Trigger::Continuous,
                printer_profile: hallkiosk_drivers::printer::receipt::Profile::generic_80mm(),
                tray: hallkiosk_drivers::sim::printer::PaperTray::new(dir.path().into(), |_| None),
                camera_dir: dir.path().join("camera"),
            })
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let camera = DocumentCamera::start(
            rig.address(hallkiosk_drivers::event::DeviceKind::Camera),
            tx.clone(),
        );
        camera.preview(Some(1));
        let b = wait_preview(&camera, Duration::from_secs(5)).unwrap();
        // The preview and the photo are in colour: the page's red seal is there.
        let reddish = |p: &image::Rgb<u8>| p.0[0] > 150 && p.0[1] < 90 && p.0[2] < 90;
        assert!(b.pixels().any(reddish), "no seal in the preview");
        camera.capture(VISIT, 1, &tx);
        let photo = captured(&rx).1.unwrap();
        let stored = image::load_from_memory(&photo.jpeg).unwrap();
        assert_eq!(stored.color(), image::ColorType::Rgb8);
        assert!(
            stored.to_rgb8().pixels().any(reddish),
            "no seal in the photo"
        );
    }
}
