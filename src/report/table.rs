//! ASCII tables laid out as PrettyTable 3 prints them, so `--report` output looks the same.

/// A table of text cells; rows may carry a rule after them.
#[derive(Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<(Vec<String>, bool)>,
}

/// Width on screen: ANSI colour codes take none.
fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

/// Centres like `str.center`: odd-length text gets the extra space on the right.
fn centre(text: &str, width: usize) -> String {
    let w = visible_width(text);
    let excess = width.saturating_sub(w);
    let (left, right) = if excess % 2 == 1 && w % 2 == 0 {
        (excess / 2 + 1, excess / 2)
    } else {
        (excess / 2, excess - excess / 2)
    };
    format!("{}{}{}", " ".repeat(left), text, " ".repeat(right))
}

impl Table {
    /// Starts a table with these column titles.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; `divider` draws a rule under it.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>, divider: bool) {
        self.rows
            .push((cells.into_iter().map(Into::into).collect(), divider));
    }

    /// The table as text, without a trailing newline.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|(r, _)| r.get(i))
                    .chain(std::iter::once(&self.header[i]))
                    .map(|c| visible_width(c))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let rule: String = widths.iter().fold("+".to_string(), |mut acc, w| {
            acc.push_str(&"-".repeat(w + 2));
            acc.push('+');
            acc
        });
        let line = |cells: &[String]| -> String {
            widths
                .iter()
                .enumerate()
                .fold("|".to_string(), |mut acc, (i, w)| {
                    let cell = cells.get(i).map(String::as_str).unwrap_or("");
                    acc.push(' ');
                    acc.push_str(&centre(cell, *w));
                    acc.push_str(" |");
                    acc
                })
        };
        let mut out = vec![rule.clone(), line(&self.header), rule.clone()];
        let last = self.rows.len().saturating_sub(1);
        for (i, (cells, divider)) in self.rows.iter().enumerate() {
            out.push(line(cells));
            if *divider && i != last {
                out.push(rule.clone());
            }
        }
        out.push(rule);
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_prettytable_layout() {
        let mut t = Table::new(["", "Avg", "Min", "50 %tile"]);
        t.row(["Latency", "1.00ms", "\x1b[91m2.0ms\x1b[0m", "x"], true);
        t.row(["Test Thresholds", "-", "-", "5ms"], false);
        let want = "\
+-----------------+--------+-------+----------+
|                 |  Avg   |  Min  | 50 %tile |
+-----------------+--------+-------+----------+
|     Latency     | 1.00ms | \x1b[91m2.0ms\x1b[0m |    x     |
+-----------------+--------+-------+----------+
| Test Thresholds |   -    |   -   |   5ms    |
+-----------------+--------+-------+----------+";
        assert_eq!(t.render(), want);
    }
}
