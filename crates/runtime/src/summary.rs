//! What a run over a range shows a person: a progress bar on a terminal and a summary table.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over `len` units (`hours`, `days`) on a terminal; hidden otherwise or for one unit.
pub fn progress_bar(job: &str, len: usize, unit: &str) -> ProgressBar {
    if len <= 1 || !draws_progress() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    let template = format!("{{spinner}} {job} [{{bar:30}}] {{pos}}/{{len}} {unit}, {{elapsed}} elapsed, eta {{eta}}");
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

/// Whether progress bars are drawn (stderr is a terminal).
pub fn draws_progress() -> bool {
    std::io::stderr().is_terminal()
}

/// A bar over the `total` rows of one unit (`export gold_order dt=…`) on a terminal; hidden otherwise.
pub fn rows_bar(label: &str, total: u64) -> ProgressBar {
    if !draws_progress() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template =
        format!("{{spinner}} {label} [{{bar:30}}] {{human_pos}}/{{human_len}} rows, {{per_sec}}, eta {{eta}}");
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

/// A table with a header row, rendered with aligned columns.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table { header: header.iter().map(|s| (*s).to_owned()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let pad = width[i].saturating_sub(c.chars().count());
                    // Numbers align right, text left.
                    if i > 0 && c.chars().next().is_some_and(|ch| ch.is_ascii_digit()) {
                        format!("{}{c}", " ".repeat(pad))
                    } else {
                        format!("{c}{}", " ".repeat(pad))
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        };
        let mut out = vec![line(&self.header)];
        out.push(width.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        out.extend(self.rows.iter().map(line));
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_columns() {
        let mut t = super::Table::new(&["hour", "records"]);
        t.row(vec!["2026-11-20T05".into(), "7".into()]);
        t.row(vec!["2026-11-20T06".into(), "1234".into()]);
        assert_eq!(
            t.render(),
            "hour           records\n-------------  -------\n2026-11-20T05        7\n2026-11-20T06     1234"
        );
    }
}
