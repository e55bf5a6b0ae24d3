//! Collecting the SQL tests send, so CI can check all of it with `check_athena_sql.py`.

use std::io::Write;

/// The environment variable naming the file [`dump_sql`] appends to.
pub const SQL_DUMP_ENV: &str = "ATHENA_SQL_DUMP";

/// Appends `statements` to the file named by [`SQL_DUMP_ENV`] (does nothing when it is unset),
/// each on one line followed by a line holding only `;`: the format `check_athena_sql.py`
/// reads. The statements of one call are written at once, so tests running in parallel do not
/// interleave them.
///
/// Fails when a statement spans lines (generated SQL is one line) or the file cannot be
/// written; the error names the statement or the file.
pub fn dump_sql(statements: &[String]) -> std::io::Result<()> {
    let Ok(path) = std::env::var(SQL_DUMP_ENV) else {
        return Ok(());
    };
    let mut text = String::new();
    for s in statements {
        if s.contains('\n') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("generated SQL must be one line: {s}"),
            ));
        }
        text.push_str(s);
        text.push_str("\n;\n");
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            std::io::Error::new(e.kind(), format!("appending to {SQL_DUMP_ENV}={path}: {e}"))
        })
}
