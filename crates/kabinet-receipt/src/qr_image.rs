//! The payment QR code as a small black-and-white PNG, [`SCALE`] pixels per
//! module, with the four-module quiet zone. The template scales it smoothly:
//! a viewer or printer then averages module edges the way it would a vector
//! drawing (scanners failed on one-pixel-per-module codes scaled without
//! smoothing at 200–400 dpi), while the PDF stays far smaller and faster to
//! write than thousands of vector squares.

use fast_qr::{ECL, QRBuilder};
use kabinet_domain::qr::QrError;

/// Quiet zone around the code, in modules (the QR standard's minimum).
const QUIET: usize = 4;
/// Pixels per module.
const SCALE: usize = 3;

/// Encodes `payload` (UTF-8, byte mode, error correction level M) and returns
/// the PNG file.
pub fn qr_png(payload: &str) -> Result<Vec<u8>, QrError> {
    let too_long = || QrError::TooLong {
        key: "payload",
        max: 0,
    };
    let code = QRBuilder::new(payload.as_bytes())
        .ecl(ECL::M)
        .build()
        .map_err(|_| too_long())?;
    let side = (code.size + 2 * QUIET) * SCALE;
    let row_bytes = side.div_ceil(8);
    // 1-bit greyscale: a set bit is white.
    let mut pixels = vec![0xFFu8; row_bytes * side];
    for y in 0..code.size {
        for (x, module) in code[y].iter().enumerate() {
            if !module.value() {
                continue;
            }
            for py in (y + QUIET) * SCALE..(y + QUIET + 1) * SCALE {
                for px in (x + QUIET) * SCALE..(x + QUIET + 1) * SCALE {
                    pixels[py * row_bytes + px / 8] &= !(0x80 >> (px % 8));
                }
            }
        }
    }
    let mut png = Vec::with_capacity(2048);
    let side = u32::try_from(side).map_err(|_| too_long())?;
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let written = encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&pixels).and_then(|()| w.finish()));
    // Writing to memory fails only on a wrong size, which cannot happen here.
    written.map_err(|_| too_long())?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_with_the_quiet_zone() {
        let png = qr_png("ST00012|Name=ООО «Тест»|PersonalAcc=40702810900000000001").unwrap_or_default();
        assert_eq!(&png[1..4], b"PNG");
        // IHDR width: a version-4 code or larger plus the quiet zone, scaled.
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]) as usize;
        assert_eq!(width % SCALE, 0);
        let modules = width / SCALE;
        assert!(
            modules >= 33 + 8 && (modules - 8 - 17).is_multiple_of(4),
            "{modules}"
        );
    }
}
