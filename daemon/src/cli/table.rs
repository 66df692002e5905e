//! Plain-text tables and number formats for the human-readable output.

use byokit_core::Decimal;

/// A table whose first column is left-aligned and the others right-aligned.
pub(super) struct Table<const N: usize> {
    header: [String; N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    pub(super) fn new(header: [&str; N]) -> Self {
        Table {
            header: header.map(str::to_owned),
            rows: Vec::new(),
        }
    }

    pub(super) fn row(&mut self, row: [String; N]) {
        self.rows.push(row);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(super) fn write(&self, out: &mut dyn std::io::Write, indent: &str) -> std::io::Result<()> {
        let mut widths = [0usize; N];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::from(indent);
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i == 0 {
                    line.push_str(&format!("{cell:<w$}"));
                } else {
                    line.push_str(&format!("  {cell:>w$}"));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// `$0.00608`: a cost, every significant digit kept.
pub(super) fn usd(d: Decimal) -> String {
    format!("${}", d.normalize())
}

/// `$2.50`: a price per million tokens, at least two decimals.
pub(super) fn usd_per_million(d: Decimal) -> String {
    let d = d.normalize();
    if d.scale() < 2 {
        format!("${d:.2}")
    } else {
        format!("${d}")
    }
}

/// `1,536`: a token count with thousands separators.
pub(super) fn tokens(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(usd(d("0.0060800")), "$0.00608");
        assert_eq!(usd(d("12.50")), "$12.5");
        assert_eq!(usd_per_million(d("2.5")), "$2.50");
        assert_eq!(usd_per_million(d("10")), "$10.00");
        assert_eq!(usd_per_million(d("0.075")), "$0.075");
        assert_eq!(tokens(0), "0");
        assert_eq!(tokens(999), "999");
        assert_eq!(tokens(1536), "1,536");
        assert_eq!(tokens(1_000_000), "1,000,000");
    }
}
