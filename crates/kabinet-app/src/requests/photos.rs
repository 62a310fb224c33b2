//! Residents' photos: checked by content (JPEG, PNG or WebP — never by the
//! file's name), within limits, turned upright, re-encoded as JPEG — which
//! leaves every EXIF field, the GPS position included, behind — and given a
//! thumbnail. HEIC has no decoder we can ship; it gets a message asking for
//! JPEG.
//!
//! What a photo may cost is decided from its header alone ([`inspect`]),
//! before any pixel is decoded: at most [`MAX_PIXELS`] (24 megapixels, more
//! than any phone camera's default) and [`MAX_SIDE`] a side, 8 bits a
//! channel. A small file that would unpack into gigabytes — a 16-bit
//! 10 000 × 10 000 PNG is 760 KiB and 800 MB of pixels — is refused there.
//! The decoder then runs under an allocation limit of the budget itself, and
//! the photo is scaled down by area averaging, which needs no buffer larger
//! than the result. One decoded photo thus holds at most about 130 MB.

use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use kabinet_domain::Text;
use std::io::Cursor;

/// The largest photo accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// How many photos a request may have.
pub const MAX_PHOTOS: usize = 5;
/// The longest side accepted.
pub const MAX_SIDE: u32 = 8_000;
/// The most pixels accepted (24 megapixels).
pub const MAX_PIXELS: u64 = 24_000_000;
/// What the decoder may allocate: the largest accepted photo with four
/// 8-bit channels, and a little for the decoder's own rows.
pub const MAX_DECODE_BYTES: u64 = MAX_PIXELS * 4 + 8 * 1024 * 1024;
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

/// What the header says of a photo that may be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Its format.
    pub format: ImageFormat,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Bytes a decoded pixel takes (1 to 4).
    pub bytes_per_pixel: u8,
}

impl Header {
    /// What decoding and re-encoding it may hold at once, in MiB: the decoded
    /// pixels, the scaled copy (at most 2 560² RGBA) and its RGB form.
    pub fn cost_mib(&self) -> u32 {
        let pixels = u64::from(self.width) * u64::from(self.height) * u64::from(self.bytes_per_pixel);
        let scaled = u64::from(STORED_SIDE) * u64::from(STORED_SIDE) * 7;
        u32::try_from((pixels + scaled).div_ceil(1024 * 1024)).unwrap_or(u32::MAX)
    }
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

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

fn damaged(name: &str) -> Text {
    Text::new("error-photo-damaged").with("name", name)
}

fn too_big(name: &str) -> Text {
    Text::new("error-photo-too-big").with("name", name)
}

fn short(name: &str) -> String {
    name.chars().take(60).collect()
}

/// Opens a decoder over `data`, reading only the header.
fn decoder<'a>(data: &'a [u8], format: ImageFormat, name: &str) -> Result<impl ImageDecoder + 'a, Text> {
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    reader.limits(limits());
    reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(name),
        _ => damaged(name),
    })
}

/// Checks photo `name` by its content and header only — type, size,
/// completeness, dimensions, pixel budget and bit depth — without decoding
/// it. The message says what is wrong.
pub fn inspect(name: &str, data: &[u8]) -> Result<Header, Text> {
    let name = short(name);
    if data.is_empty() {
        return Err(Text::new("error-photo-empty").with("name", name));
    }
    if data.len() > MAX_BYTES {
        return Err(Text::new("error-photo-too-large").with("name", name));
    }
    let format = match image::guess_format(data) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => f,
        _ if heic(data) => {
            return Err(Text::new("error-photo-heic").with("name", name));
        }
        _ => {
            return Err(Text::new("error-photo-type").with("name", name));
        }
    };
    if format == ImageFormat::Jpeg && !jpeg_complete(data) {
        return Err(damaged(&name));
    }
    let d = decoder(data, format, &name)?;
    let (width, height) = d.dimensions();
    if width == 0 || height == 0 {
        return Err(damaged(&name));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_big(&name));
    }
    let color = d.color_type();
    if !matches!(
        color,
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8
    ) || d.total_bytes() > MAX_DECODE_BYTES
    {
        return Err(Text::new("error-photo-depth").with("name", name));
    }
    Ok(Header {
        format,
        width,
        height,
        bytes_per_pixel: color.bytes_per_pixel(),
    })
}

/// Decodes and re-encodes photo `name`, whose header [`inspect`] passed.
pub fn process(name: &str, data: &[u8], header: Header) -> Result<Processed, Text> {
    let name = short(name);
    let mut decoder = decoder(data, header.format, &name)?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(&name),
        _ => damaged(&name),
    })?;
    if img.width() > STORED_SIDE || img.height() > STORED_SIDE {
        // Area averaging: no intermediate larger than the result (a
        // filtered resize keeps a float copy of the whole height).
        img = img.thumbnail(STORED_SIDE, STORED_SIDE);
    }
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE).into_rgb8();
    let rgb = img.into_rgb8();
    let jpeg = encode(&rgb, 85).ok_or_else(|| damaged(&name))?;
    let thumb = encode(&thumb, 80).ok_or_else(|| damaged(&name))?;
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
        let data = jpeg(3000, 1000);
        let h = inspect("a.jpg", &data).unwrap_or_else(|e| panic!("{e:?}"));
        let p = process("a.jpg", &data, h).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((p.width, p.height), (2560, 853));
        assert!(p.thumb.len() < p.jpeg.len());
        assert_eq!(image::guess_format(&p.jpeg).ok(), Some(ImageFormat::Jpeg));
    }

    /// A PNG of `w` × `h` in `color`, compressed to almost nothing.
    fn png(w: u32, h: u32, color: image::ExtendedColorType) -> Vec<u8> {
        use image::ImageEncoder;
        let bytes = w as usize * h as usize * color.bits_per_pixel() as usize / 8;
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::NoFilter,
        )
        .write_image(&vec![0u8; bytes], w, h, color)
        .unwrap_or_else(|e| panic!("{e}"));
        out
    }

    #[test]
    fn the_cost_of_a_photo_is_judged_from_its_header() {
        // 16 bits a channel: refused before a single pixel is decoded.
        let deep = png(4000, 3000, image::ExtendedColorType::Rgba16);
        assert!(deep.len() < MAX_BYTES);
        assert_eq!(inspect("deep.png", &deep).unwrap_err().id(), "error-photo-depth");
        // Over the pixel budget though each side is allowed.
        let wide = png(6000, 4100, image::ExtendedColorType::Rgba8);
        assert_eq!(
            inspect("wide.png", &wide).unwrap_err().id(),
            "error-photo-too-big"
        );
        // Over the side limit.
        let long = png(8001, 100, image::ExtendedColorType::Rgb8);
        assert_eq!(
            inspect("long.png", &long).unwrap_err().id(),
            "error-photo-too-big"
        );
        // The largest accepted photo is decoded and stored at 2 560 px.
        let big = png(6000, 4000, image::ExtendedColorType::Rgba8);
        let h = inspect("big.png", &big).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((h.width, h.height), (6000, 4000));
        let p = process("big.png", &big, h).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((p.width, p.height), (2560, 1707));
    }

    #[test]
    fn wrong_and_broken_files_are_refused() {
        let php = b"<?php system($_GET['c']); ?>";
        assert_eq!(inspect("shell.jpg", php).unwrap_err().id(), "error-photo-type");
        let full = jpeg(200, 200);
        let cut = &full[..full.len() / 2];
        assert_eq!(inspect("cut.jpg", cut).unwrap_err().id(), "error-photo-damaged");
        let mut heif = vec![0, 0, 0, 24];
        heif.extend_from_slice(b"ftypheic");
        heif.extend_from_slice(&[0; 16]);
        assert_eq!(inspect("x.heic", &heif).unwrap_err().id(), "error-photo-heic");
    }
}
