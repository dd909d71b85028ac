//! PNG copies of the headline figures, for readers whose viewer does not show SVG (slides, some
//! Markdown and PDF tool chains).
//!
//! The SVG written by [`crate::plot`] is rasterised by `resvg` (pure Rust) at [`SCALE`] times its
//! size. The SVG names the generic family `sans-serif`; it is mapped to the first installed family
//! of [`PREFERRED_FAMILIES`] (else to any installed family), found once per process.
//!
//! **Determinism.** On one machine the PNG bytes are a pure function of the SVG. Across machines
//! they depend on the installed fonts, so PNGs are not part of the byte-for-byte comparison with
//! the reference report (the SVGs and the data are); [`font_family`] is recorded in the
//! provenance. Without any installed font the copies are still written, with no text, and the
//! provenance says so.

use crate::ReportError;
use resvg::{tiny_skia, usvg};
use std::sync::{Arc, OnceLock};

/// Pixels per SVG unit.
pub const SCALE: f32 = 1.5;

/// Families tried, in order, for the SVG's `sans-serif`.
pub const PREFERRED_FAMILIES: [&str; 6] = [
    "DejaVu Sans",
    "Liberation Sans",
    "Noto Sans",
    "Arial",
    "Helvetica",
    "FreeSans",
];

struct Fonts {
    database: Arc<usvg::fontdb::Database>,
    family: Option<String>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let mut database = usvg::fontdb::Database::new();
        database.load_system_fonts();
        let installed: Vec<String> = database
            .faces()
            .flat_map(|face| face.families.iter().map(|(name, _)| name.clone()))
            .collect();
        let family = PREFERRED_FAMILIES
            .iter()
            .find(|f| installed.iter().any(|i| i == *f))
            .map(|f| (*f).to_owned())
            .or_else(|| {
                let mut sorted = installed.clone();
                sorted.sort();
                sorted.into_iter().next()
            });
        if let Some(family) = &family {
            database.set_sans_serif_family(family.clone());
        }
        Fonts {
            database: Arc::new(database),
            family,
        }
    })
}

/// The font family the PNG text is set in, or a note that there is none.
pub fn font_family() -> String {
    fonts()
        .family
        .clone()
        .unwrap_or_else(|| "none installed (PNG copies have no text)".to_owned())
}

/// Rasterises an SVG document to PNG bytes at [`SCALE`].
pub fn png_from_svg(svg: &[u8]) -> Result<Vec<u8>, ReportError> {
    let options = usvg::Options {
        fontdb: fonts().database.clone(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(svg, &options)
        .map_err(|e| ReportError::Plot(format!("reading an SVG for its PNG copy: {e}")))?;
    let size = tree.size();
    let width = (size.width() * SCALE).ceil() as u32;
    let height = (size.height() * SCALE).ceil() as u32;
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| ReportError::Plot(format!("a {width}×{height} PNG is empty")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| ReportError::Plot(format!("encoding a PNG: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">
<rect x="0" y="0" width="20" height="20" fill="#FF0000"/>
<text x="22" y="15" font-family="sans-serif" font-size="12">a</text></svg>"##;

    #[test]
    fn a_png_copy_has_the_scaled_size_and_the_colours_of_the_svg() {
        let png = png_from_svg(SVG.as_bytes()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (60, 30));
        let red = pixmap.pixel(5, 5).unwrap();
        assert_eq!((red.red(), red.green(), red.blue()), (255, 0, 0));
        let white = pixmap.pixel(59, 0).unwrap();
        assert_eq!((white.red(), white.green(), white.blue()), (255, 255, 255));
        assert_eq!(
            png_from_svg(SVG.as_bytes()).unwrap(),
            png,
            "same bytes twice"
        );
    }

    #[test]
    fn malformed_svg_is_an_error() {
        assert!(png_from_svg(b"<svg").is_err());
    }
}
