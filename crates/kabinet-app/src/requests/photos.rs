//! Residents' photos: checked by content (JPEG, PNG or WebP — never by the
//! file's name), within limits (10 MiB, at most 10 000 pixels a side, so a
//! small file that would unpack into gigabytes is refused before decoding),
//! turned upright, re-encoded as JPEG — which leaves every EXIF field,
//! the GPS position included, behind — and given a thumbnail. HEIC has no
//! decoder we can ship; it gets a message asking for JPEG.

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// The largest photo accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// How many photos a request may have.
pub const MAX_PHOTOS: usize = 5;
/// The longest side accepted.
pub const MAX_SIDE: u32 = 10_000;
/// The longest side stored (larger photos are scaled down).
pub const STORED_SIDE: u32 = 2_560;
/// The longest side of a thumbnail.
pub const THUMB_SIDE: u32 = 320;

/// A photo ready to store.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The JPEG to store.
    pub jpeg: Vec<u8>,
    /// Its thumbnail (JPEG).
    pub thumb: Vec<u8>,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// Whether a JPEG's data goes on to its end: the last end-of-image marker
/// must come after the last start-of-scan (a cut-off file has none after
/// it; an embedded EXIF thumbnail's marker comes before).
fn jpeg_complete(data: &[u8]) -> bool {
    let sos = data.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let eoi = data.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((sos, eoi), (Some(s), Some(e)) if e > s)
}

fn heic(data: &[u8]) -> bool {
    data.len() > 12
        && &data[4..8] == b"ftyp"
        && [&b"heic"[..], b"heix", b"mif1", b"msf1", b"heis", b"hevc"].contains(&&data[8..12])
}

/// Checks and re-encodes photo `name` (the name only appears in messages).
/// The message says what is wrong, in Russian.
pub fn process(name: &str, data: &[u8]) -> Result<Processed, String> {
    let name: String = name.chars().take(60).collect();
    if data.is_empty() {
        return Err(format!("файл «{name}» пустой"));
    }
    if data.len() > MAX_BYTES {
        return Err(format!("фото «{name}» больше 10 МБ — уменьшите его"));
    }
    let format = match image::guess_format(data) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => f,
        _ if heic(data) => {
            return Err(format!(
                "фото «{name}» в формате HEIC пока не принимается — сохраните его как JPEG (в настройках камеры: «Наиболее совместимый»)"
            ));
        }
        _ => {
            return Err(format!(
                "файл «{name}» не является фотографией JPEG, PNG или WebP"
            ));
        }
    };
    if format == ImageFormat::Jpeg && !jpeg_complete(data) {
        return Err(format!("фото «{name}» повреждено или загрузилось не полностью"));
    }
    let damaged = || format!("фото «{name}» повреждено или загрузилось не полностью");
    let too_big = || format!("фото «{name}» слишком большое: не больше 10 000 точек по стороне");
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(),
        _ => damaged(),
    })?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(too_big());
    }
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(),
        _ => damaged(),
    })?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    if img.width() > STORED_SIDE || img.height() > STORED_SIDE {
        img = img.resize(STORED_SIDE, STORED_SIDE, image::imageops::FilterType::Triangle);
    }
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgb8();
    let rgb = img.to_rgb8();
    let jpeg = encode(&rgb, 85).ok_or_else(damaged)?;
    let thumb = encode(&thumb, 80).ok_or_else(damaged)?;
    Ok(Processed {
        jpeg,
        thumb,
        width: rgb.width(),
        height: rgb.height(),
    })
}

/// Encodes RGB pixels as a JPEG with no metadata at all.
fn encode(img: &image::RgbImage, quality: u8) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (w, h) = (
        u16::try_from(img.width()).ok()?,
        u16::try_from(img.height()).ok()?,
    );
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        encode(&img, 90).unwrap_or_default()
    }

    #[test]
    fn a_photo_is_reencoded_and_scaled() {
        let p = process("a.jpg", &jpeg(3000, 1000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.width, p.height), (2560, 853));
        assert!(p.thumb.len() < p.jpeg.len());
        assert_eq!(image::guess_format(&p.jpeg).ok(), Some(ImageFormat::Jpeg));
    }

    #[test]
    fn wrong_and_broken_files_are_refused() {
        let php = b"<?php system($_GET['c']); ?>";
        assert!(
            process("shell.jpg", php)
                .unwrap_err()
                .contains("не является фотографией")
        );
        let full = jpeg(200, 200);
        let cut = &full[..full.len() / 2];
        assert!(process("cut.jpg", cut).unwrap_err().contains("повреждено"));
        let mut heif = vec![0, 0, 0, 24];
        heif.extend_from_slice(b"ftypheic");
        heif.extend_from_slice(&[0; 16]);
        assert!(process("x.heic", &heif).unwrap_err().contains("HEIC"));
    }
}
