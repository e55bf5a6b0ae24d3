//! Comparing answers as sorted rows (floats with a tolerance), and sizing results the way
//! Athena's CSV result files are sized.

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// One value: text, or a float compared with a tolerance.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum Cell {
    Text(String),
    Float(f64),
}

/// The rows of `batches`, sorted.
pub fn sorted_rows(batches: &[RecordBatch]) -> Vec<Vec<Cell>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for r in 0..batch.num_rows() {
            let row: Vec<Cell> = batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(c, f)| {
                    let text = f.value(r).to_string();
                    match c.data_type() {
                        DataType::Float32 | DataType::Float64 if c.is_valid(r) => {
                            Cell::Float(text.parse().expect("float"))
                        }
                        _ => Cell::Text(text),
                    }
                })
                .collect();
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| compare_rows(a, b));
    rows
}

/// A total order of rows (floats by `total_cmp` with -0.0 as 0.0, so NaN sorts consistently).
fn compare_rows(a: &[Cell], b: &[Cell]) -> std::cmp::Ordering {
    let key = |f: f64| if f == 0.0 { 0.0 } else { f };
    for (x, y) in a.iter().zip(b) {
        let order = match (x, y) {
            (Cell::Float(x), Cell::Float(y)) => key(*x).total_cmp(&key(*y)),
            (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
            (Cell::Float(_), Cell::Text(_)) => std::cmp::Ordering::Less,
            (Cell::Text(_), Cell::Float(_)) => std::cmp::Ordering::Greater,
        };
        if order.is_ne() {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// Whether two sorted row sets are equal, floats within a relative 1e-9 (NaN equals NaN, -0.0
/// equals 0.0).
pub fn same_rows(a: &[Vec<Cell>], b: &[Vec<Cell>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| match (p, q) {
                    (Cell::Float(p), Cell::Float(q)) => {
                        (p.is_nan() && q.is_nan())
                            || p == q
                            || (p - q).abs() <= 1e-9 * p.abs().max(q.abs()).max(1.0)
                    }
                    _ => p == q,
                })
        })
}

/// The size of `batches` as an Athena CSV result file: a header line, then every value
/// double-quoted (NULL as an empty field), comma-separated, one line per row.
pub fn athena_csv_bytes(batches: &[RecordBatch]) -> usize {
    let Some(first) = batches.first() else {
        return 0;
    };
    let quoted = |s: &str| s.len() + 2 + s.matches('"').count();
    let mut total: usize = first
        .schema()
        .fields()
        .iter()
        .map(|f| quoted(f.name()) + 1)
        .sum();
    let options = FormatOptions::default();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for r in 0..batch.num_rows() {
            for (c, f) in batch.columns().iter().zip(&formatters) {
                total += if c.is_valid(r) {
                    quoted(&f.value(r).to_string())
                } else {
                    0
                } + 1;
            }
        }
    }
    total
}
