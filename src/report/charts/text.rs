//! Text rasterisation for the PNG charts.
//!
//! plotters 0.3.7 rasterises text through ab_glyph but drops each glyph's left side bearing and
//! rounds every pen position to whole pixels, which gives visibly uneven letter spacing
//! ("triangle s", "am s-1"); it also sets the baseline half a font size below the anchor, so
//! centred text sits high. [`CrispText`] wraps a pixel backend and re-implements only
//! `draw_text`, placing glyphs at sub-pixel pen positions with their real bearings. Widths
//! still come from plotters' own estimate (advances plus kerning, which is also what this
//! layout uses), so PNG and SVG make the same layout decisions.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle,
};

/// A pixel backend whose text is drawn with correct glyph placement; everything else is
/// forwarded untouched (so the inner backend's fast paths stay in use).
pub(super) struct CrispText<B> {
    inner: B,
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

impl<B> CrispText<B> {
    /// Wraps `inner`; `None` if the bundled fonts cannot be parsed.
    pub(super) fn new(inner: B, regular: &'static [u8], bold: &'static [u8]) -> Option<Self> {
        Some(Self {
            inner,
            regular: FontRef::try_from_slice(regular).ok()?,
            bold: FontRef::try_from_slice(bold).ok()?,
        })
    }
}

impl<B: DrawingBackend> DrawingBackend for CrispText<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        if color.alpha <= 0.0 {
            return Ok(());
        }
        let font = match style.style() {
            FontStyle::Bold => &self.bold,
            _ => &self.regular,
        };
        // Same scale as plotters' ab_glyph path, so the widths it estimated still hold.
        let scale = PxScale::from(style.size() as f32);
        let scaled = font.as_scaled(scale);

        let mut glyphs = Vec::with_capacity(text.len());
        let mut pen = 0.0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            glyphs.push((id, pen));
            pen += scaled.h_advance(id);
            prev = Some(id);
        }

        // Vertical anchors on the cap height: "centre" then centres capitals and digits,
        // which is what labels next to markers and ticks need.
        let cap = font
            .outline_glyph(scaled.scaled_glyph('H'))
            .map_or(scaled.ascent() * 0.9, |g| -g.px_bounds().min.y);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -pen / 2.0,
            HPos::Right => -pen,
        };
        let baseline = match anchor.v_pos {
            VPos::Top => cap,
            VPos::Center => cap / 2.0,
            VPos::Bottom => scaled.descent(),
        };

        let transform = style.transform();
        let (w, h) = self.inner.get_size();
        let (w, h) = (i64::from(w), i64::from(h));
        for (id, x) in glyphs {
            let glyph = id.with_scale_and_position(scale, point(x + dx, baseline));
            let Some(outline) = font.outline_glyph(glyph) else {
                continue; // spaces and glyphs without ink
            };
            let bounds = outline.px_bounds();
            let (bx, by) = (bounds.min.x as i32, bounds.min.y as i32);
            let mut result = Ok(());
            outline.draw(|gx, gy, coverage| {
                if result.is_err() || coverage <= 0.0 {
                    return;
                }
                let local_x = bx.saturating_add(i32::try_from(gx).unwrap_or(i32::MAX));
                let local_y = by.saturating_add(i32::try_from(gy).unwrap_or(i32::MAX));
                let (tx, ty) = transform.transform(local_x, local_y);
                let (px, py) = (pos.0.saturating_add(tx), pos.1.saturating_add(ty));
                if (0..w).contains(&i64::from(px)) && (0..h).contains(&i64::from(py)) {
                    let pixel = BackendColor {
                        alpha: color.alpha * f64::from(coverage.min(1.0)),
                        rgb: color.rgb,
                    };
                    result = self.inner.draw_pixel((px, py), pixel);
                }
            });
            result?;
        }
        Ok(())
    }
}
