//! SVG figures with `plotters` (SVG backend only: no fonts, no system libraries; the text is set
//! by the browser).
//!
//! Two kinds: a heatmap on a regular grid with a colour bar and overlaid lines, and a line plot
//! with optional shaded bands. Heatmap colours are quantised to a fixed number of levels of the
//! viridis map, and horizontal runs of equal colour are drawn as one rectangle: the saturated
//! regions of a phase diagram then cost a few rectangles instead of thousands, which keeps the
//! SVG files small enough to commit. Output is deterministic (integer pixel coordinates, fixed
//! order of elements).

use crate::ReportError;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

/// Figure size in pixels.
const SIZE: (u32, u32) = (720, 540);

fn plot_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Plot(e.to_string())
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    /// White dashes (on a heatmap).
    DashedWhite,
    /// Black dashes.
    DashedBlack,
    /// Solid red.
    SolidRed,
    /// Thin grey dots-like dashes (reference levels).
    ThinGrey,
    /// The k-th colour of a qualitative palette.
    Series(usize),
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

impl LineStyle {
    fn shape(self) -> ShapeStyle {
        match self {
            LineStyle::DashedWhite => WHITE.stroke_width(2),
            LineStyle::DashedBlack => BLACK.stroke_width(2),
            LineStyle::SolidRed => RED.stroke_width(2),
            LineStyle::ThinGrey => RGBColor(150, 150, 150).stroke_width(1),
            LineStyle::Series(k) => PALETTE[k % PALETTE.len()].stroke_width(2),
        }
    }

    fn dashed(self) -> bool {
        matches!(
            self,
            LineStyle::DashedWhite | LineStyle::DashedBlack | LineStyle::ThinGrey
        )
    }
}

/// A polyline in data coordinates.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text (empty: no legend entry).
    pub label: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// The style.
    pub style: LineStyle,
}

/// A shaded region between two curves sampled at the same x.
#[derive(Debug, Clone)]
pub struct Band {
    /// Legend text.
    pub label: String,
    /// (x, lower, upper).
    pub points: Vec<(f64, f64, f64)>,
}

/// A heatmap on a regular grid.
#[derive(Debug, Clone)]
pub struct Heatmap<'a> {
    /// Title.
    pub title: String,
    /// x axis label.
    pub x_label: String,
    /// y axis label.
    pub y_label: String,
    /// x axis range.
    pub x_range: (f64, f64),
    /// y axis range.
    pub y_range: (f64, f64),
    /// Cell width.
    pub x_step: f64,
    /// Cell height.
    pub y_step: f64,
    /// Cell centres along x.
    pub x_centres: &'a [f64],
    /// Cell centres along y.
    pub y_centres: &'a [f64],
    /// `values[j][i]` at (`x_centres[i]`, `y_centres[j]`), in [0, 1].
    pub values: &'a [Vec<f64>],
    /// Number of colour levels.
    pub levels: usize,
    /// Label of the colour bar.
    pub value_label: String,
    /// Overlaid lines.
    pub lines: Vec<Line>,
}

fn level(value: f64, levels: usize) -> usize {
    if value.is_finite() {
        ((value.clamp(0.0, 1.0) * levels as f64) as usize).min(levels - 1)
    } else {
        0
    }
}

fn level_colour(level: usize, levels: usize) -> RGBColor {
    ViridisRGB::get_color((level as f64 + 0.5) / levels as f64)
}

/// Draws a heatmap; returns the SVG text.
pub fn heatmap(map: &Heatmap<'_>) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (main, bar) = root.split_horizontally(SIZE.0 - 110);
        let mut chart = ChartBuilder::on(&main)
            .caption(&map.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(map.x_range.0..map.x_range.1, map.y_range.0..map.y_range.1)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&map.x_label)
            .y_desc(&map.y_label)
            .draw()
            .map_err(plot_error)?;
        let mut rects = Vec::new();
        for (j, &y) in map.y_centres.iter().enumerate() {
            let row = &map.values[j];
            let mut start = 0;
            while start < row.len() {
                let lv = level(row[start], map.levels);
                let mut end = start + 1;
                while end < row.len() && level(row[end], map.levels) == lv {
                    end += 1;
                }
                let x0 = map.x_centres[start] - map.x_step / 2.0;
                let x1 = map.x_centres[end - 1] + map.x_step / 2.0;
                rects.push(Rectangle::new(
                    [(x0, y - map.y_step / 2.0), (x1, y + map.y_step / 2.0)],
                    level_colour(lv, map.levels).filled(),
                ));
                start = end;
            }
        }
        chart.draw_series(rects).map_err(plot_error)?;
        draw_lines(&mut chart, &map.lines)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            // Grey, not white: the overlaid curves include white ones (γ = γ_c on the maps).
            .background_style(RGBColor(175, 175, 175).mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;

        let mut legend = ChartBuilder::on(&bar)
            .margin_top(40)
            .margin_bottom(52)
            .margin_right(40)
            .y_label_area_size(0)
            .right_y_label_area_size(50)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(plot_error)?
            .set_secondary_coord(0.0..1.0, 0.0..1.0);
        legend
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .disable_y_axis()
            .draw()
            .map_err(plot_error)?;
        legend
            .configure_secondary_axes()
            .y_desc(&map.value_label)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .y_labels(6)
            .x_labels(0)
            .draw()
            .map_err(plot_error)?;
        let step = 1.0 / map.levels as f64;
        legend
            .draw_series((0..map.levels).map(|k| {
                Rectangle::new(
                    [(0.0, k as f64 * step), (1.0, (k + 1) as f64 * step)],
                    level_colour(k, map.levels).filled(),
                )
            }))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_lines(chart: &mut Chart<'_, '_>, lines: &[Line]) -> Result<(), ReportError> {
    for line in lines {
        let shape = line.style.shape();
        let annotation = if line.style.dashed() {
            chart
                .draw_series(DashedLineSeries::new(
                    line.points.iter().copied(),
                    8,
                    5,
                    shape,
                ))
                .map_err(plot_error)?
        } else {
            chart
                .draw_series(LineSeries::new(line.points.iter().copied(), shape))
                .map_err(plot_error)?
        };
        if !line.label.is_empty() {
            annotation
                .label(line.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], shape));
        }
    }
    Ok(())
}

/// A line plot.
#[derive(Debug, Clone)]
pub struct LinePlot {
    /// Title.
    pub title: String,
    /// x axis label.
    pub x_label: String,
    /// y axis label.
    pub y_label: String,
    /// x axis range (log10 of x when `x_log`).
    pub x_range: (f64, f64),
    /// y axis range.
    pub y_range: (f64, f64),
    /// x values are log10 of the quantity: the ticks are written 1e{x}.
    pub x_log: bool,
    /// The lines.
    pub lines: Vec<Line>,
    /// Shaded bands, drawn first.
    pub bands: Vec<Band>,
    /// Text at data coordinates (left edge of the text at the point).
    pub notes: Vec<(f64, f64, String)>,
    /// Legend in the upper left corner (else upper right).
    pub legend_left: bool,
}

/// Draws a line plot; returns the SVG text.
pub fn lines(plot: &LinePlot) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&plot.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(
                plot.x_range.0..plot.x_range.1,
                plot.y_range.0..plot.y_range.1,
            )
            .map_err(plot_error)?;
        let log_label = |x: &f64| format!("1e{}", x.round() as i64);
        let plain_label = |x: &f64| {
            let text = format!("{x:.2}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        };
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(RGBColor(235, 235, 235))
            .x_desc(&plot.x_label)
            .y_desc(&plot.y_label);
        if plot.x_log {
            let ticks = (plot.x_range.1 - plot.x_range.0).round() as usize + 1;
            mesh.x_labels(ticks.min(12)).x_label_formatter(&log_label);
        } else {
            mesh.x_label_formatter(&plain_label);
        }
        mesh.draw().map_err(plot_error)?;
        for band in &plot.bands {
            let mut polygon: Vec<(f64, f64)> =
                band.points.iter().map(|&(x, lo, _)| (x, lo)).collect();
            polygon.extend(band.points.iter().rev().map(|&(x, _, hi)| (x, hi)));
            let fill = RGBColor(31, 119, 180).mix(0.18);
            chart
                .draw_series(std::iter::once(Polygon::new(polygon, fill.filled())))
                .map_err(plot_error)?
                .label(band.label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill.filled()));
        }
        draw_lines(&mut chart, &plot.lines)?;
        chart
            .draw_series(plot.notes.iter().map(|(x, y, text)| {
                Text::new(
                    text.clone(),
                    (*x, *y),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )
            }))
            .map_err(plot_error)?;
        chart
            .configure_series_labels()
            .position(if plot.legend_left {
                SeriesLabelPosition::UpperLeft
            } else {
                SeriesLabelPosition::UpperRight
            })
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmap_merges_runs_and_is_deterministic() {
        let values = vec![vec![0.0, 0.0, 0.0, 1.0], vec![0.5, 0.5, 0.9, 1.0]];
        let map = Heatmap {
            title: "t".to_owned(),
            x_label: "x".to_owned(),
            y_label: "y".to_owned(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            x_step: 0.25,
            y_step: 0.5,
            x_centres: &[0.125, 0.375, 0.625, 0.875],
            y_centres: &[0.25, 0.75],
            values: &values,
            levels: 10,
            value_label: "v".to_owned(),
            lines: vec![Line {
                label: "l".to_owned(),
                points: vec![(0.0, 0.5), (1.0, 0.5)],
                style: LineStyle::DashedWhite,
            }],
        };
        let a = heatmap(&map).unwrap();
        assert_eq!(a, heatmap(&map).unwrap());
        assert!(a.starts_with("<svg"));
        // Two runs in the first row, three in the second, ten colour-bar cells, one background.
        let filled = a.matches("<rect").count();
        assert!(filled <= 2 + 3 + 10 + 4, "{filled}");
    }
}
