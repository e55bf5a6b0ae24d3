//! The one error type of this crate: every way a connection string or its options can be wrong.
//!
//! Every message names the property and says what to do. Values of secret properties (keys,
//! passwords, tokens) are never part of a message.

/// Where to read about every property.
const SEE_DOCS: &str = "see docs/connection-string.md";

/// A connection string or option that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A property name that is not known.
    #[error("unknown property '{key}'{}: check the spelling ({SEE_DOCS} for every property)", did_you_mean(.suggestion.as_deref()))]
    UnknownKey {
        /// The name as written (nested names as `SSOProperties.<Key>`).
        key: String,
        /// The nearest known name, when one is close.
        suggestion: Option<String>,
    },

    /// Text that does not look like a property follows a secret property: most likely the
    /// secret contains `;` and is not quoted. The text itself is not shown.
    #[error(
        "the text after property '{after}' is not a known property{}: if the value of {after} contains ';', put the whole value in quotes ({after}='...')",
        did_you_mean(.suggestion.as_deref())
    )]
    UnquotedSeparator {
        /// The (secret) property before the text.
        after: String,
        /// The nearest known name, when one is close.
        suggestion: Option<String>,
    },

    /// A quoted value without its closing quote.
    #[error(
        "the value of property '{key}' opens a {quote} quote that is never closed: add the closing {quote} (write a {quote} inside the value as {quote}{quote})"
    )]
    UnterminatedQuote {
        /// The property whose value is unterminated.
        key: String,
        /// The quote character, `'` or `"`.
        quote: char,
    },

    /// Text between a closing quote and the next `;`.
    #[error(
        "the value of property '{key}' has text after its closing quote: end the value with the quote and a ';' (write a quote inside the value by doubling it)"
    )]
    TextAfterQuote {
        /// The property whose value is followed by stray text.
        key: String,
    },

    /// `=value` with nothing before the `=`.
    #[error("a property has an empty name{}: write Name=value", after_key(.after.as_deref()))]
    EmptyKey {
        /// The property before the empty name, if any.
        after: Option<String>,
    },

    /// A segment without `=`.
    #[error("{}", missing_equals(.text.as_deref(), .after.as_deref()))]
    MissingEquals {
        /// The segment as written, when it can be shown (never after a secret property).
        text: Option<String>,
        /// The property before the segment, if any.
        after: Option<String>,
    },

    /// The same property twice with different values (the same value twice is fine).
    #[error(
        "property '{key}' is given twice with different values (as {first} and as {second}{}): keep only one",
        show_values(.values.as_ref())
    )]
    DuplicateKey {
        /// The canonical name.
        key: String,
        /// The first spelling.
        first: String,
        /// The second spelling.
        second: String,
        /// Both values, unless the property is secret.
        values: Option<(String, String)>,
    },

    /// A region that is neither an AWS code nor a known friendly name.
    #[error(
        "property '{key}': '{value}' is not an AWS region{}: use a code such as eu-west-1 or a name such as IRELAND, OREGON, FRANKFURT",
        did_you_mean(.suggestion.as_deref())
    )]
    InvalidRegion {
        /// The property (or environment variable).
        key: String,
        /// The value given.
        value: String,
        /// The nearest region name, when one is close.
        suggestion: Option<String>,
    },

    /// A value that should be a whole number.
    #[error("property '{key}': '{value}' is not a number: use {expected}")]
    InvalidNumber {
        /// The property.
        key: String,
        /// The value given.
        value: String,
        /// What is expected, e.g. "a whole number of seconds".
        expected: String,
    },

    /// A value that should be a boolean.
    #[error("property '{key}': '{value}' is not a boolean: use true or false")]
    InvalidBoolean {
        /// The property.
        key: String,
        /// The value given.
        value: String,
    },

    /// A value outside a fixed list.
    #[error("property '{key}': '{value}' is not accepted: use one of {}", .accepted.join(", "))]
    InvalidEnum {
        /// The property.
        key: String,
        /// The value given.
        value: String,
        /// The accepted values.
        accepted: Vec<String>,
    },

    /// An S3 location that is not `s3://bucket/prefix/`.
    #[error("property '{key}': {reason}")]
    InvalidS3Url {
        /// The property.
        key: String,
        /// What is wrong (names the value and the expected form).
        reason: String,
    },

    /// A URL (endpoint, SSO, callback) that cannot be used.
    #[error("property '{key}': '{value}' {reason}")]
    InvalidUrl {
        /// The property (or environment variable).
        key: String,
        /// The value given.
        value: String,
        /// What is wrong and what is expected.
        reason: String,
    },

    /// A number outside its allowed range.
    #[error("property '{key}': {value} is out of range: use {range}")]
    OutOfRange {
        /// The property.
        key: String,
        /// The value given.
        value: String,
        /// The allowed range, e.g. "900 to 129600 seconds".
        range: String,
    },

    /// Properties that the chosen `AuthScheme` needs but that are not set.
    #[error(
        "AuthScheme={scheme} needs {} but {} not set: add {} to the connection string",
        .missing.join(", "),
        if .missing.len() == 1 { "it is" } else { "they are" },
        if .missing.len() == 1 { "it" } else { "them" }
    )]
    MissingForScheme {
        /// The scheme, as written in connection strings.
        scheme: String,
        /// The missing properties (alternatives as `A (or B)`).
        missing: Vec<String>,
    },

    /// A property that only works together with another one.
    #[error("property '{key}' is set but {requires} is not: {hint}")]
    Requires {
        /// The property that is set.
        key: String,
        /// What it needs.
        requires: String,
        /// What to do.
        hint: String,
    },

    /// Two properties that cannot be used together.
    #[error("property '{key}' cannot be used with {other}: {hint}")]
    Conflict {
        /// The property that is set.
        key: String,
        /// What it conflicts with (e.g. `AuthScheme=AwsRootKeys`).
        other: String,
        /// What to do.
        hint: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default()
}

fn after_key(after: Option<&str>) -> String {
    after
        .map(|k| format!(" after property '{k}'"))
        .unwrap_or_default()
}

fn show_values(values: Option<&(String, String)>) -> String {
    values
        .map(|(a, b)| format!(": '{a}' and '{b}'"))
        .unwrap_or_default()
}

fn missing_equals(text: Option<&str>, after: Option<&str>) -> String {
    let after_text = after
        .map(|a| format!(" (after property '{a}')"))
        .unwrap_or_default();
    match (text, after) {
        (Some(t), _) if crate::parse::looks_like_name(t) => format!(
            "property '{t}' has no value: write {t}=value (separate properties with ';')"
        ),
        (Some(t), _) => format!(
            "'{t}'{after_text} is not Name=value: write properties as Name=value;Name=value, quoting values that contain ';'"
        ),
        (None, Some(a)) => format!(
            "the text after property '{a}' is not Name=value: if the value of {a} contains ';', put the whole value in quotes"
        ),
        (None, None) => {
            "the connection string does not start with Name=value: write properties as Name=value;Name=value".to_string()
        }
    }
}

impl Error {
    /// The property this error is about, when there is one (`SSOProperties.<Key>` for nested
    /// properties).
    pub fn property(&self) -> Option<&str> {
        match self {
            Self::UnknownKey { key, .. }
            | Self::UnterminatedQuote { key, .. }
            | Self::TextAfterQuote { key }
            | Self::DuplicateKey { key, .. }
            | Self::InvalidRegion { key, .. }
            | Self::InvalidNumber { key, .. }
            | Self::InvalidBoolean { key, .. }
            | Self::InvalidEnum { key, .. }
            | Self::InvalidS3Url { key, .. }
            | Self::InvalidUrl { key, .. }
            | Self::OutOfRange { key, .. }
            | Self::Requires { key, .. }
            | Self::Conflict { key, .. } => Some(key),
            Self::UnquotedSeparator { after, .. } => Some(after),
            Self::EmptyKey { after } => after.as_deref(),
            Self::MissingEquals { text, after } => text
                .as_deref()
                .filter(|t| crate::parse::looks_like_name(t))
                .or(after.as_deref()),
            Self::MissingForScheme { .. } => Some("AuthScheme"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_property_and_what_to_do() {
        let e = Error::UnknownKey {
            key: "AWSRegon".into(),
            suggestion: Some("AWSRegion".into()),
        };
        assert_eq!(
            e.to_string(),
            "unknown property 'AWSRegon' (did you mean 'AWSRegion'?): check the spelling (see docs/connection-string.md for every property)"
        );
        let e = Error::MissingForScheme {
            scheme: "Okta".into(),
            missing: vec!["User".into(), "Password".into()],
        };
        assert_eq!(
            e.to_string(),
            "AuthScheme=Okta needs User, Password but they are not set: add them to the connection string"
        );
        assert_eq!(e.property(), Some("AuthScheme"));
        let e = Error::DuplicateKey {
            key: "AWSSecretKey".into(),
            first: "AWSSecretKey".into(),
            second: "SecretKey".into(),
            values: None,
        };
        assert_eq!(
            e.to_string(),
            "property 'AWSSecretKey' is given twice with different values (as AWSSecretKey and as SecretKey): keep only one"
        );
    }
}
