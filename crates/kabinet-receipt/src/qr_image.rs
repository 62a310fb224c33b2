//! The payment QR code as a small black-and-white raster image, [`SCALE`]
//! pixels per module, with the four-module quiet zone, handed to typst as raw
//! 8-bit grey pixels (no PNG to write and read back). The template scales it
//! smoothly: a viewer or printer then averages module edges the way it would a
//! vector drawing (scanners failed on one-pixel-per-module codes at 200–400
//! dpi), while the PDF stays far smaller and faster to write than thousands of
//! vector squares.

use fast_qr::{ECL, QRBuilder};
use kabinet_domain::qr::{QrCharset, QrError};

/// Quiet zone around the code, in modules (the QR standard's minimum).
const QUIET: usize = 4;
/// Pixels per module.
const SCALE: usize = 2;

/// A square grey image: `side` × `side` bytes, 0 black, 255 white.
pub struct QrPixels {
    /// Width and height in pixels.
    pub side: usize,
    /// Rows top to bottom.
    pub pixels: Vec<u8>,
}

/// The payload's bytes in `charset`; `None` when a character cannot be
/// written in windows-1251.
pub fn encode(payload: &str, charset: QrCharset) -> Option<Vec<u8>> {
    match charset {
        QrCharset::Utf8 => Some(payload.as_bytes().to_vec()),
        QrCharset::Windows1251 => {
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(payload);
            (!unmappable).then(|| bytes.into_owned())
        }
    }
}

/// Encodes `payload` in `charset` (byte mode, error correction level M) and
/// draws it.
pub fn qr_pixels(payload: &str, charset: QrCharset) -> Result<QrPixels, QrError> {
    let bytes = encode(payload, charset).ok_or(QrError::Header)?;
    let code = QRBuilder::new(bytes)
        .ecl(ECL::M)
        .build()
        .map_err(|_| QrError::TooLong {
            key: "payload",
            max: 0,
        })?;
    let side = (code.size + 2 * QUIET) * SCALE;
    let mut pixels = vec![0xFFu8; side * side];
    for y in 0..code.size {
        let row = &mut pixels[(y + QUIET) * SCALE * side..(y + QUIET + 1) * SCALE * side];
        let (first, rest) = row.split_at_mut(side);
        for (x, module) in code[y].iter().enumerate() {
            if module.value() {
                first[(x + QUIET) * SCALE..(x + QUIET + 1) * SCALE].fill(0);
            }
        }
        for copy in rest.chunks_exact_mut(side) {
            copy.copy_from_slice(first);
        }
    }
    Ok(QrPixels { side, pixels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_with_the_quiet_zone() {
        let qr = qr_pixels(
            "ST00012|Name=ООО «Тест»|PersonalAcc=40702810900000000001",
            QrCharset::Utf8,
        )
        .unwrap_or(QrPixels {
            side: 0,
            pixels: Vec::new(),
        });
        assert_eq!(qr.pixels.len(), qr.side * qr.side);
        assert_eq!(qr.side % SCALE, 0);
        let modules = qr.side / SCALE;
        // A version-4 code or larger plus the quiet zone.
        assert!(
            modules >= 33 + 8 && (modules - 8 - 17).is_multiple_of(4),
            "{modules}"
        );
        // The quiet zone is white; the finder pattern's corner is black.
        assert!(qr.pixels[..QUIET * SCALE * qr.side].iter().all(|&p| p == 0xFF));
        assert_eq!(qr.pixels[QUIET * SCALE * qr.side + QUIET * SCALE], 0);
    }
}
