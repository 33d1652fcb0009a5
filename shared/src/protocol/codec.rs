//! Frame encoding: `LengthDelimitedCodec` with an enforced maximum, carrying JSON.

use bytes::Bytes;
use serde::{Serialize, de::DeserializeOwned};
use tokio_util::codec::LengthDelimitedCodec;

/// The largest frame either side accepts. A queue of thousands of leads fits easily; anything
/// bigger is a bug or an attack, and ends the connection.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {len} bytes is over the {max}-byte limit")]
    Oversize { len: usize, max: usize },
    #[error("frame is not a valid Leadline protocol message: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// The framing both sides use: a 4-byte big-endian length prefix, frames capped at
/// [`MAX_FRAME_BYTES`].
pub fn framing() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .max_frame_length(MAX_FRAME_BYTES)
        .new_codec()
}

/// Serializes one message into a frame payload.
pub fn encode<T: Serialize>(msg: &T) -> Result<Bytes, FrameError> {
    let bytes = serde_json::to_vec(msg).map_err(FrameError::Malformed)?;
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(FrameError::Oversize { len: bytes.len(), max: MAX_FRAME_BYTES });
    }
    Ok(Bytes::from(bytes))
}

/// Parses one frame payload.
pub fn decode<T: DeserializeOwned>(frame: &[u8]) -> Result<T, FrameError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(FrameError::Oversize { len: frame.len(), max: MAX_FRAME_BYTES });
    }
    serde_json::from_slice(frame).map_err(FrameError::Malformed)
}

/// Maps the codec's own error (an oversize length prefix surfaces as `InvalidData`).
pub fn classify_io(err: std::io::Error) -> FrameError {
    if err.kind() == std::io::ErrorKind::InvalidData {
        FrameError::Oversize { len: 0, max: MAX_FRAME_BYTES }
    } else {
        FrameError::Io(err)
    }
}
