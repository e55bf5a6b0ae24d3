//! `ResultFetcher`: how query results travel back.

/// How query results are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultFetcher {
    /// Pick the fastest path that works, falling back on errors.
    #[default]
    Auto,
    /// Read the result CSV from S3 with concurrent ranged GETs.
    S3,
    /// Page through GetQueryResults (works with managed results and without S3 access).
    GetQueryResults,
    /// Wrap the query in UNLOAD to Parquet and read the Parquet files.
    Unload,
}

impl ResultFetcher {
    /// The name used in connection strings.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Auto => "Auto",
            Self::S3 => "S3",
            Self::GetQueryResults => "GetQueryResults",
            Self::Unload => "Unload",
        }
    }

    /// Parses a name case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Auto, Self::S3, Self::GetQueryResults, Self::Unload]
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name.trim()))
    }
}
