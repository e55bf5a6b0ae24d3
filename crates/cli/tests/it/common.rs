//! What both test files use: the binary under test and its output as text.

/// The `datafusion-athena` binary cargo built for these tests.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_datafusion-athena");

/// Process output as text (lossy).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
