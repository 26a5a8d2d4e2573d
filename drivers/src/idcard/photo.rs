//! The card photo: a 1024-byte WLT file on every card layout (devices.md §1.8).
//!
//! WLT is a proprietary compressed format; no open-source decoder exists and **hallkiosk ships
//! none**. The driver carries the bytes opaquely in [`IdCard::photo`](super::IdCard::photo). A hall
//! that licenses a vendor decoder plugs it in through [`PhotoDecoder`]; without one,
//! [`NoPhotoDecoder`] says so and the kiosk simply shows no portrait.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes of a WLT photo on the chip.
pub const WLT_LEN: usize = 1024;
/// Decoded portrait size, fixed by the format.
pub const WIDTH: u32 = 102;
pub const HEIGHT: u32 = 126;

/// A decoded portrait: 102 × 126 pixels, 24-bit RGB, rows top to bottom. Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Portrait {
    pub rgb: Vec<u8>,
}

impl std::fmt::Debug for Portrait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Portrait({} bytes)", self.rgb.len())
    }
}

/// Why a photo was not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("no WLT photo decoder is installed on this kiosk")]
    NoDecoder,
    #[error("the photo has {0} bytes, expected 1024")]
    Length(usize),
    #[error("the photo decoder failed: {0}")]
    Decoder(String),
}

/// A WLT decoder (a vendor library behind FFI, or a decoding service on the kiosk).
pub trait PhotoDecoder: Send + Sync {
    fn decode(&self, wlt: &[u8]) -> Result<Portrait, PhotoError>;
}

/// The decoder the kiosk uses when none is installed: it declines, politely.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPhotoDecoder;

impl PhotoDecoder for NoPhotoDecoder {
    fn decode(&self, wlt: &[u8]) -> Result<Portrait, PhotoError> {
        if wlt.len() != WLT_LEN {
            return Err(PhotoError::Length(wlt.len()));
        }
        Err(PhotoError::NoDecoder)
    }
}

/// Checks a decoder's output has the format's geometry.
pub fn check_portrait(p: &Portrait) -> Result<(), PhotoError> {
    let want = (WIDTH * HEIGHT * 3) as usize;
    if p.rgb.len() != want {
        return Err(PhotoError::Decoder(format!(
            "portrait has {} bytes, expected {want}",
            p.rgb.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_decoder_the_kiosk_is_told_so() {
        assert_eq!(
            NoPhotoDecoder.decode(&[0; WLT_LEN]),
            Err(PhotoError::NoDecoder)
        );
        assert_eq!(NoPhotoDecoder.decode(&[0; 10]), Err(PhotoError::Length(10)));
    }

    #[test]
    fn a_plugged_decoder_is_used_through_the_trait() {
        struct Grey;
        impl PhotoDecoder for Grey {
            fn decode(&self, _: &[u8]) -> Result<Portrait, PhotoError> {
                Ok(Portrait {
                    rgb: vec![128; (WIDTH * HEIGHT * 3) as usize],
                })
            }
        }
        let d: Box<dyn PhotoDecoder> = Box::new(Grey);
        let p = d.decode(&[0; WLT_LEN]).unwrap();
        assert_eq!(check_portrait(&p), Ok(()));
        assert_eq!(format!("{p:?}"), "Portrait(38556 bytes)");
        assert!(check_portrait(&Portrait { rgb: vec![0; 3] }).is_err());
    }
}
