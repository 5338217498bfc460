//! ImageDecoder (opset 20): decodes an encoded image (JPEG, PNG, BMP, TIFF, WebP,
//! PNM) into an (H, W, C) uint8 tensor in RGB, BGR or grayscale.

use image::{DynamicImage, ImageReader};
use ort_core::{Error, Value};

use crate::kernel::{input, one, Ctx, Kernel, NodeInfo, Outputs};
use crate::ops::LATEST;

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Rgb,
    Bgr,
    Gray,
}

struct ImageDecoder {
    format: Format,
}

fn build(info: &NodeInfo<'_, '_>) -> Result<Box<dyn Kernel>, Error> {
    let format = match info.string("pixel_format", "RGB")?.as_str() {
        "RGB" => Format::Rgb,
        "BGR" => Format::Bgr,
        "Grayscale" => Format::Gray,
        f => return Err(Error::invalid(format!("unknown pixel_format {f:?}"))),
    };
    Ok(Box::new(ImageDecoder { format }))
}

/// ITU-R 601-2 luma in fixed point, rounded (as Pillow's RGB to L conversion).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}

impl Kernel for ImageDecoder {
    fn compute(&self, inputs: &[Option<&Value>], ctx: &Ctx<'_>) -> Outputs {
        let bytes = input(inputs, 0)?.as_slice::<u8>()?;
        let img = ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::invalid(format!("ImageDecoder: cannot read the image: {e}")))?
            .decode()
            .map_err(|e| match e {
                image::ImageError::Unsupported(u) => {
                    Error::not_implemented(format!("ImageDecoder: {u}"))
                }
                e => Error::invalid(format!("ImageDecoder: cannot decode the image: {e}")),
            })?;
        let (w, h) = (img.width() as i64, img.height() as i64);
        let gray_source = matches!(
            img,
            DynamicImage::ImageLuma8(_)
                | DynamicImage::ImageLuma16(_)
                | DynamicImage::ImageLumaA8(_)
                | DynamicImage::ImageLumaA16(_)
        );
        let t = if self.format == Format::Gray {
            let px: Vec<u8> = if gray_source {
                img.to_luma8().into_raw()
            } else {
                img.to_rgb8()
                    .pixels()
                    .map(|p| luma(p[0], p[1], p[2]))
                    .collect()
            };
            ctx.tensor_from(&[h, w, 1], &px)?
        } else {
            let mut px = img.to_rgb8().into_raw();
            if self.format == Format::Bgr {
                px.chunks_exact_mut(3).for_each(|p| p.swap(0, 2));
            }
            ctx.tensor_from(&[h, w, 3], &px)?
        };
        one(t)
    }
}

crate::register!(
    "ImageDecoder",
    [20, LATEST],
    &[ort_core::ElemType::U8],
    build
);
