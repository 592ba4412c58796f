//! The HTML report's charts: line charts over the run's seconds, drawn by plotters to inline SVG.
use plotters::prelude::*;

/// One line: its name (shown in the report's legend), colour and points (second, value).
pub struct Series {
    pub name: String,
    pub colour: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// Colours of successive series, readable on white.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 260;

/// An SVG document with one 2-pixel polyline per series (axes and ticks are 1 pixel).
pub fn line_chart(y_label: &str, series: &[Series]) -> Result<String, String> {
    let mut svg = String::new();
    let (mut x_max, mut y_max) = (1.0f64, 0.0f64);
    for s in series {
        for (x, y) in &s.points {
            x_max = x_max.max(*x);
            y_max = y_max.max(*y);
        }
    }
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("seconds since start")
            .y_desc(y_label)
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(|e| e.to_string())?;
        for s in series {
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    s.colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_series_is_one_polyline() {
        let series: Vec<Series> = (0..3)
            .map(|i| Series {
                name: format!("s{i}"),
                colour: PALETTE[i],
                points: vec![(0.0, 1.0), (1.0, 2.0 + i as f64), (2.0, 1.5)],
            })
            .collect();
        let svg = line_chart("ms", &series).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        let lines = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"2\""));
        assert_eq!(lines.count(), 3, "{svg}");
        assert!(svg.contains("seconds since start"));
    }
}
