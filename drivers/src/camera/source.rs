//! Where frames come from: the [`FrameSource`] trait, a V4L2 camera ([`V4l2Source`]) and a file
//! source ([`FileSource`]: one image or a folder of frames) for tests and the dev dock.

use super::frame::{load_gray, load_rgb, Frame, FrameError, PixelFormat};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a source gave no frame. Reported to the kiosk as a camera fault; never fatal.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("{0} is busy (another program is using the camera)")]
    Busy(String),
    #[error("{0} is gone (unplugged?)")]
    Unplugged(String),
    #[error("{device} offers no usable format (YUYV, MJPEG or GREY); it has {offered}")]
    NoUsableFormat { device: String, offered: String },
    #[error("bad frame: {0}")]
    BadFrame(#[from] FrameError),
    #[error("the file source has no more frames")]
    End,
    #[error("{device}: {source}")]
    Io {
        device: String,
        #[source]
        source: io::Error,
    },
}

impl CameraError {
    fn from_io(device: &str, e: io::Error) -> CameraError {
        match e.raw_os_error() {
            Some(libc::EBUSY) => CameraError::Busy(device.into()),
            Some(libc::ENODEV) | Some(libc::ENOENT) | Some(libc::ENXIO) => {
                CameraError::Unplugged(device.into())
            }
            _ => CameraError::Io {
                device: device.into(),
                source: e,
            },
        }
    }
}

/// A source of frames.
pub trait FrameSource: Send {
    /// Where the frames come from, for messages.
    fn describe(&self) -> String;
    /// The negotiated format and size.
    fn format(&self) -> (PixelFormat, u32, u32);
    /// The next frame; blocks until there is one.
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
}

/// One format a camera offers, with its frame sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub format: PixelFormat,
    pub sizes: Vec<(u32, u32)>,
}

/// Chooses the capture format: the wanted size in YUYV (exact luma, no decoding), else in MJPEG,
/// else GREY; failing an exact size, the smallest size at least as large as wanted, else the
/// largest offered. `None` when no offer is in a format the kiosk reads.
pub fn choose_format(offers: &[Offer], want: (u32, u32)) -> Option<(PixelFormat, u32, u32)> {
    let ranked = [PixelFormat::Yuyv, PixelFormat::Mjpeg, PixelFormat::Grey];
    let usable = |f: PixelFormat| offers.iter().filter(move |o| o.format == f);
    for format in ranked {
        if usable(format).any(|o| o.sizes.contains(&want)) {
            return Some((format, want.0, want.1));
        }
    }
    for format in ranked {
        let sizes: Vec<(u32, u32)> = usable(format).flat_map(|o| o.sizes.clone()).collect();
        let larger = sizes
            .iter()
            .filter(|(w, h)| *w >= want.0 && *h >= want.1)
            .min_by_key(|(w, h)| w * h);
        let best = larger.or_else(|| sizes.iter().max_by_key(|(w, h)| w * h));
        if let Some(&(w, h)) = best {
            return Some((format, w, h));
        }
    }
    None
}

/// A V4L2 camera (`/dev/videoN`), streaming with mmap buffers.
pub struct V4l2Source {
    path: String,
    format: (PixelFormat, u32, u32),
    stream: linuxvideo::stream::ReadStream,
}

/// What `camera list` shows of a device.
#[derive(Debug, Clone)]
pub struct CameraInfo {
    pub path: PathBuf,
    pub card: String,
    pub driver: String,
    pub offers: Vec<Offer>,
}

/// The capture devices present, with their formats (devices that fail to answer are skipped
/// with a log line).
pub fn list_cameras() -> io::Result<Vec<CameraInfo>> {
    let mut cameras = Vec::new();
    for device in linuxvideo::list()? {
        let info = device.and_then(|device| {
            let caps = device.capabilities()?;
            Ok(CameraInfo {
                path: device.path()?,
                card: caps.card().to_string(),
                driver: caps.driver().to_string(),
                offers: offers(&device)?,
            })
        });
        match info {
            Ok(info) if !info.offers.is_empty() => cameras.push(info),
            Ok(_) => {}
            Err(e) => tracing::info!("camera list: skipped a device: {e}"),
        }
    }
    Ok(cameras)
}

fn offers(device: &linuxvideo::Device) -> io::Result<Vec<Offer>> {
    let mut offers = Vec::new();
    for desc in device.formats(linuxvideo::BufType::VIDEO_CAPTURE) {
        let raw = desc?.pixel_format();
        let Some(format) = PixelFormat::from_fourcc(raw.as_fourcc()) else {
            continue;
        };
        let sizes = match device.frame_sizes(raw)? {
            linuxvideo::format::FrameSizes::Discrete(sizes) => {
                sizes.iter().map(|s| (s.width(), s.height())).collect()
            }
            linuxvideo::format::FrameSizes::Stepwise(s)
            | linuxvideo::format::FrameSizes::Continuous(s) => {
                let mut sizes = vec![(s.min_width(), s.min_height())];
                for (w, h) in [(640, 480), (1280, 720), (1920, 1080)] {
                    if w >= s.min_width()
                        && w <= s.max_width()
                        && h >= s.min_height()
                        && h <= s.max_height()
                    {
                        sizes.push((w, h));
                    }
                }
                sizes.push((s.max_width(), s.max_height()));
                sizes
            }
        };
        offers.push(Offer { format, sizes });
    }
    Ok(offers)
}

impl V4l2Source {
    /// Opens the camera and negotiates a format near `want` (see [`choose_format`]).
    pub fn open(path: &str, want: (u32, u32)) -> Result<V4l2Source, CameraError> {
        let err = |e| CameraError::from_io(path, e);
        let device = linuxvideo::Device::open(Path::new(path)).map_err(err)?;
        let offered = offers(&device).map_err(err)?;
        let (format, width, height) =
            choose_format(&offered, want).ok_or_else(|| CameraError::NoUsableFormat {
                device: path.into(),
                offered: format!("{offered:?}"),
            })?;
        let raw = linuxvideo::format::PixelFormat::from_fourcc(format.fourcc());
        let capture = device
            .video_capture(linuxvideo::format::PixFormat::new(width, height, raw))
            .map_err(err)?;
        let got = capture.format();
        let format = PixelFormat::from_fourcc(got.pixel_format().as_fourcc()).ok_or_else(|| {
            CameraError::NoUsableFormat {
                device: path.into(),
                offered: format!("the driver switched to {}", got.pixel_format()),
            }
        })?;
        let (width, height) = (got.width(), got.height());
        let stream = capture.into_stream().map_err(err)?;
        Ok(V4l2Source {
            path: path.into(),
            format: (format, width, height),
            stream,
        })
    }
}

impl FrameSource for V4l2Source {
    fn describe(&self) -> String {
        self.path.clone()
    }

    fn format(&self) -> (PixelFormat, u32, u32) {
        self.format
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let (format, width, height) = self.format;
        let data = self
            .stream
            .dequeue(|buf| {
                if buf.is_error() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "frame flagged bad",
                    ));
                }
                Ok(buf.to_vec())
            })
            .map_err(|e| CameraError::from_io(&self.path, e))?;
        Ok(Frame {
            format,
            width,
            height,
            data,
        })
    }
}

/// Frames from image files: one image repeated, or a folder's images in name order (once, or
/// looping). Paced to `fps` when set, like a camera.
pub struct FileSource {
    label: String,
    files: Vec<PathBuf>,
    next: usize,
    looping: bool,
    interval: Option<Duration>,
    last: Option<Instant>,
    size: (u32, u32),
    colour: bool,
}

impl FileSource {
    /// `path` is an image (repeated forever) or a folder of PNG/JPEG/WebP frames (played once, or
    /// forever with `looping`).
    pub fn open(path: &Path, looping: bool, fps: Option<f64>) -> io::Result<FileSource> {
        let (files, looping) = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension()
                            .and_then(|e| e.to_str())
                            .map(str::to_ascii_lowercase)
                            .as_deref(),
                        Some("png" | "jpg" | "jpeg" | "webp")
                    )
                })
                .collect();
            files.sort();
            (files, looping)
        } else {
            (vec![path.to_path_buf()], true)
        };
        if files.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has no PNG, JPEG or WebP frames", path.display()),
            ));
        }
        let first = load_gray(&files[0]).map_err(io::Error::other)?;
        Ok(FileSource {
            label: path.display().to_string(),
            files,
            next: 0,
            looping,
            interval: fps
                .filter(|f| *f > 0.0)
                .map(|f| Duration::from_secs_f64(1.0 / f)),
            last: None,
            size: first.dimensions(),
            colour: false,
        })
    }

    /// Frames in colour (RGB24) instead of gray: for the document camera.
    pub fn in_colour(mut self) -> Self {
        self.colour = true;
        self
    }
}

impl FrameSource for FileSource {
    fn describe(&self) -> String {
        format!("file source {}", self.label)
    }

    fn format(&self) -> (PixelFormat, u32, u32) {
        let format = if self.colour {
            PixelFormat::Rgb24
        } else {
            PixelFormat::Grey
        };
        (format, self.size.0, self.size.1)
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        if self.next >= self.files.len() {
            if !self.looping {
                return Err(CameraError::End);
            }
            self.next = 0;
        }
        if let (Some(interval), Some(last)) = (self.interval, self.last) {
            if let Some(wait) = interval.checked_sub(last.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        self.last = Some(Instant::now());
        let path = &self.files[self.next];
        self.next += 1;
        let bad = |e: image::ImageError| {
            CameraError::BadFrame(FrameError::BadJpeg(format!("{}: {e}", path.display())))
        };
        if self.colour {
            let image = load_rgb(path).map_err(bad)?;
            return Ok(Frame {
                format: PixelFormat::Rgb24,
                width: image.width(),
                height: image.height(),
                data: image.into_raw(),
            });
        }
        let image = load_gray(path).map_err(bad)?;
        Ok(Frame {
            format: PixelFormat::Grey,
            width: image.width(),
            height: image.height(),
            data: image.into_raw(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(format: PixelFormat, sizes: &[(u32, u32)]) -> Offer {
        Offer {
            format,
            sizes: sizes.to_vec(),
        }
    }

    #[test]
    fn yuyv_at_the_wanted_size_wins() {
        let offers = [
            offer(PixelFormat::Mjpeg, &[(640, 480), (1920, 1080)]),
            offer(PixelFormat::Yuyv, &[(640, 480), (1280, 720)]),
        ];
        assert_eq!(
            choose_format(&offers, (640, 480)),
            Some((PixelFormat::Yuyv, 640, 480))
        );
    }

    #[test]
    fn mjpeg_when_only_it_has_the_size_else_the_next_larger() {
        let offers = [
            offer(PixelFormat::Yuyv, &[(320, 240), (1280, 720)]),
            offer(PixelFormat::Mjpeg, &[(640, 480)]),
        ];
        assert_eq!(
            choose_format(&offers, (640, 480)),
            Some((PixelFormat::Mjpeg, 640, 480))
        );
        let offers = [offer(
            PixelFormat::Yuyv,
            &[(320, 240), (1920, 1080), (1280, 720)],
        )];
        assert_eq!(
            choose_format(&offers, (640, 480)),
            Some((PixelFormat::Yuyv, 1280, 720))
        );
        let offers = [offer(PixelFormat::Yuyv, &[(160, 120), (320, 240)])];
        assert_eq!(
            choose_format(&offers, (640, 480)),
            Some((PixelFormat::Yuyv, 320, 240))
        );
    }

    #[test]
    fn nothing_usable_is_none() {
        assert_eq!(choose_format(&[], (640, 480)), None);
        let offers = [offer(PixelFormat::Grey, &[])];
        assert_eq!(choose_format(&offers, (640, 480)), None);
    }

    #[test]
    fn a_missing_device_is_reported_not_a_panic() {
        let err = V4l2Source::open("/dev/video-none", (640, 480))
            .err()
            .unwrap();
        assert!(matches!(err, CameraError::Unplugged(_)), "{err}");
    }

    #[test]
    fn file_source_plays_a_folder_once_and_an_image_forever() {
        let dir = tempfile::tempdir().unwrap();
        for (i, shade) in [10u8, 200].iter().enumerate() {
            image::GrayImage::from_pixel(8, 6, image::Luma([*shade]))
                .save(dir.path().join(format!("{i}.png")))
                .unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "not a frame").unwrap();
        let mut folder = FileSource::open(dir.path(), false, None).unwrap();
        assert_eq!(folder.format(), (PixelFormat::Grey, 8, 6));
        assert_eq!(folder.next_frame().unwrap().data[0], 10);
        assert_eq!(folder.next_frame().unwrap().data[0], 200);
        assert!(matches!(folder.next_frame(), Err(CameraError::End)));
        let mut one = FileSource::open(&dir.path().join("1.png"), false, None).unwrap();
        for _ in 0..3 {
            assert_eq!(one.next_frame().unwrap().data[0], 200);
        }
        let empty = tempfile::tempdir().unwrap();
        assert!(FileSource::open(empty.path(), false, None).is_err());
    }

    #[test]
    fn file_source_in_colour_gives_rgb_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seal.png");
        image::RgbImage::from_pixel(4, 2, image::Rgb([200, 30, 40]))
            .save(&path)
            .unwrap();
        let mut colour = FileSource::open(&path, false, None).unwrap().in_colour();
        assert_eq!(colour.format(), (PixelFormat::Rgb24, 4, 2));
        let frame = colour.next_frame().unwrap();
        assert_eq!(frame.format, PixelFormat::Rgb24);
        assert_eq!(&frame.data[..3], &[200, 30, 40]);
        assert_eq!(frame.data.len(), 4 * 2 * 3);
    }
}
