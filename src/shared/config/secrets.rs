//! The `[hall]` values that guard the maintenance screen: the PIN's Argon2id PHC string, and the
//! retired SHA-256 keys, which a file may no longer use (reading one is an error naming its
//! replacement).

use serde::{Deserialize, Deserializer, Serialize};

/// What a retired key says when a file still has it.
pub trait RetiredKey {
    const MESSAGE: &'static str;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinSha256;
impl RetiredKey for PinSha256 {
    const MESSAGE: &'static str = "`admin_pin_sha256` (an unsalted SHA-256, which a leaked config \
        gives away in an instant) is no longer accepted: run `hallkiosk admin hash-pin` and put its \
        output in `admin_pin_argon2` instead (docs/operations.md)";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardsSha256;
impl RetiredKey for CardsSha256 {
    const MESSAGE: &'static str =
        "`admin_cards_sha256` (SHA-256 of technicians' ID numbers, which \
        reveals them) is no longer accepted: provision an admin-card key and list \
        `hallkiosk admin hash-card` outputs in `admin_cards_hmac` instead (docs/operations.md)";
}

/// A key the file may no longer use: reading it is an error naming what replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired<T>(std::marker::PhantomData<T>);

impl<'de, T: RetiredKey> Deserialize<'de> for Retired<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Err(serde::de::Error::custom(T::MESSAGE))
    }
}

impl<T> Serialize for Retired<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

/// An Argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), checked when the file is read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PinHash(pub String);

impl<'de> Deserialize<'de> for PinHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::shared::admin::check_phc(&s).map_err(serde::de::Error::custom)?;
        Ok(PinHash(s))
    }
}
