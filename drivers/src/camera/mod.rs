//! The document camera (V4L2: YUYV and MJPEG) and the QR decoder pipeline that runs on its frames.
//!
//! - [`decode`]: the decoder pipeline (grayscale image → payload), used on camera frames, files and
//!   snapshots;
//! - [`frame`]: frames as cameras deliver them (YUYV, MJPEG, grey) and their conversion to grayscale;
//! - [`source`]: the [`source::FrameSource`] trait with a V4L2 camera and a file source (an image or a
//!   folder of frames) for tests and the dev dock;
//! - [`scan`]: the live scan loop that decodes frames from a source into scan events.

pub mod decode;
pub mod frame;
pub mod page;
pub mod scan;
pub mod source;

pub use decode::{Attempt, Decode, QrDecoder};
pub use frame::{Frame, FrameError, PixelFormat};
pub use source::{CameraError, FileSource, FrameSource, V4l2Source};
