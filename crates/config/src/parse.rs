//! The `Key=Value;` tokenizer, exactly as the CData connector documents connection strings:
//!
//! - properties are separated by `;`; a trailing `;` is optional and empty segments (`;;`) are
//!   ignored;
//! - whitespace around names and values is ignored;
//! - a value is bare (everything up to the next `;`, and may contain `=`) or in single or double
//!   quotes, where the quote character written twice is one literal quote and `;` is plain text;
//! - nested lists such as `SSOProperties='ApiToken=abc;MFAType=OktaVerify;'` are parsed by the
//!   same tokenizer (see [`tokenize_nested`]).
//!
//! Names are returned as written (trimmed); matching them to properties is the caller's job.
//! The tokenizer never panics, whatever the input.

use std::iter::Peekable;
use std::str::CharIndices;

use crate::{Error, Result};

/// One `Name=Value` pair as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    /// The name, trimmed, as written.
    pub(crate) key: String,
    /// The value: trimmed when bare, verbatim (with doubled quotes undone) when quoted.
    pub(crate) value: String,
}

/// Splits a connection string into its pairs. `is_secret` tells which names hold secrets, so
/// that an error about the text after one never shows that text.
pub(crate) fn tokenize(input: &str, is_secret: &dyn Fn(&str) -> bool) -> Result<Vec<Pair>> {
    Tokenizer {
        chars: input.char_indices().peekable(),
        prefix: "",
        is_secret,
    }
    .run()
}

/// Splits a nested list (the value of `SSOProperties`); names in errors are written as
/// `<prefix><Key>`, e.g. `SSOProperties.ApiToken`.
pub(crate) fn tokenize_nested(
    input: &str,
    prefix: &str,
    is_secret: &dyn Fn(&str) -> bool,
) -> Result<Vec<Pair>> {
    Tokenizer {
        chars: input.char_indices().peekable(),
        prefix,
        is_secret,
    }
    .run()
}

struct Tokenizer<'a> {
    chars: Peekable<CharIndices<'a>>,
    prefix: &'a str,
    is_secret: &'a dyn Fn(&str) -> bool,
}

impl Tokenizer<'_> {
    fn run(mut self) -> Result<Vec<Pair>> {
        let mut pairs: Vec<Pair> = Vec::new();
        loop {
            self.skip_whitespace();
            let Some(&(_, c)) = self.chars.peek() else {
                return Ok(pairs);
            };
            if c == ';' {
                self.chars.next();
                continue;
            }
            let previous = pairs.last().map(|p| p.key.as_str());
            let (key, found_equals) = self.read_key();
            let key = key.trim().to_string();
            if !found_equals {
                return Err(self.missing_equals(&key, previous));
            }
            if key.is_empty() {
                return Err(Error::EmptyKey {
                    after: previous.map(|p| self.name(p)),
                });
            }
            self.skip_whitespace();
            let value = match self.chars.peek() {
                Some(&(_, q)) if q == '\'' || q == '"' => {
                    self.chars.next();
                    self.read_quoted(q, &key)?
                }
                _ => self.read_bare(),
            };
            pairs.push(Pair { key, value });
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn missing_equals(&self, text: &str, previous: Option<&str>) -> Error {
        let after = previous.map(|p| self.name(p));
        match previous {
            // Text after a secret may be the rest of an unquoted secret: never show it.
            Some(p) if (self.is_secret)(p) => Error::MissingEquals { text: None, after },
            _ if looks_like_name(text) => Error::MissingEquals {
                text: Some(self.name(text)),
                after,
            },
            _ => Error::MissingEquals {
                text: Some(shorten(text)),
                after,
            },
        }
    }

    fn skip_whitespace(&mut self) {
        while self.chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
    }

    /// Reads up to `=` (consumed) or `;`/end (not consumed). Returns the text and whether `=`
    /// was found.
    fn read_key(&mut self) -> (String, bool) {
        let mut key = String::new();
        while let Some(&(_, c)) = self.chars.peek() {
            match c {
                '=' => {
                    self.chars.next();
                    return (key, true);
                }
                ';' => return (key, false),
                _ => {
                    key.push(c);
                    self.chars.next();
                }
            }
        }
        (key, false)
    }

    /// Reads a quoted value after its opening quote, then the separator after it.
    fn read_quoted(&mut self, quote: char, key: &str) -> Result<String> {
        let mut value = String::new();
        loop {
            match self.chars.next() {
                None => {
                    return Err(Error::UnterminatedQuote {
                        key: self.name(key),
                        quote,
                    });
                }
                Some((_, c)) if c == quote => {
                    if self.chars.next_if(|&(_, n)| n == quote).is_some() {
                        value.push(quote);
                    } else {
                        break;
                    }
                }
                Some((_, c)) => value.push(c),
            }
        }
        self.skip_whitespace();
        match self.chars.next() {
            None | Some((_, ';')) => Ok(value),
            Some(_) => Err(Error::TextAfterQuote {
                key: self.name(key),
            }),
        }
    }

    /// Reads a bare value up to `;` (consumed) or the end, trimmed.
    fn read_bare(&mut self) -> String {
        let mut value = String::new();
        for (_, c) in self.chars.by_ref() {
            if c == ';' {
                break;
            }
            value.push(c);
        }
        value.trim_end().to_string()
    }
}

/// At most 40 characters of `text`, for an error message.
fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

/// Whether text could be a property name (letters, digits, `_`, `.`, `-`, at most 64 chars).
pub(crate) fn looks_like_name(text: &str) -> bool {
    !text.is_empty()
        && text.chars().count() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Writes a value so that [`tokenize`] reads it back unchanged: bare when that is safe,
/// otherwise in single quotes with `'` doubled.
pub(crate) fn quote_value(value: &str) -> String {
    let needs_quotes = value.is_empty()
        || value.contains([';', '\'', '"'])
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("'{}'", value.replace('\'', "''"))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn never_secret(_: &str) -> bool {
        false
    }

    fn pairs(input: &str) -> Vec<(String, String)> {
        tokenize(input, &never_secret)
            .unwrap()
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect()
    }

    fn kv(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bare_and_quoted_values() {
        assert_eq!(
            pairs("A=1;B='two';C=\"three\""),
            kv(&[("A", "1"), ("B", "two"), ("C", "three")])
        );
    }

    #[test]
    fn whitespace_around_names_and_values_is_ignored() {
        assert_eq!(
            pairs("  A =  1 ; B = ' x ' ;\n C\t=\"y\"  "),
            kv(&[("A", "1"), ("B", " x "), ("C", "y")])
        );
    }

    #[test]
    fn trailing_semicolon_and_empty_segments() {
        assert_eq!(pairs("A=1;;; ;B=2;"), kv(&[("A", "1"), ("B", "2")]));
        assert_eq!(pairs(""), kv(&[]));
        assert_eq!(pairs(" ; ;"), kv(&[]));
    }

    #[test]
    fn doubled_quotes_are_literal() {
        assert_eq!(
            pairs("P='it''s';Q=\"say \"\"hi\"\"\""),
            kv(&[("P", "it's"), ("Q", "say \"hi\"")])
        );
        assert_eq!(pairs("P=\"it's\""), kv(&[("P", "it's")]));
        assert_eq!(pairs("P=''''"), kv(&[("P", "'")]));
    }

    #[test]
    fn quoted_values_keep_separators() {
        assert_eq!(
            pairs("SSOProperties='ApiToken=abc;MFAType=OktaVerify;';X=1"),
            kv(&[
                ("SSOProperties", "ApiToken=abc;MFAType=OktaVerify;"),
                ("X", "1")
            ])
        );
    }

    #[test]
    fn bare_values_may_hold_equals_and_inner_quotes() {
        assert_eq!(
            pairs("T=abc==;P=ab'c"),
            kv(&[("T", "abc=="), ("P", "ab'c")])
        );
    }

    #[test]
    fn empty_values() {
        assert_eq!(pairs("A=;B=''"), kv(&[("A", ""), ("B", "")]));
    }

    #[test]
    fn errors() {
        assert_eq!(
            tokenize("A='abc", &never_secret),
            Err(Error::UnterminatedQuote {
                key: "A".into(),
                quote: '\''
            })
        );
        assert_eq!(
            tokenize("A=\"ab\"\"", &never_secret),
            Err(Error::UnterminatedQuote {
                key: "A".into(),
                quote: '"'
            })
        );
        assert_eq!(
            tokenize("A='a'b;", &never_secret),
            Err(Error::TextAfterQuote { key: "A".into() })
        );
        assert_eq!(
            tokenize("=1", &never_secret),
            Err(Error::EmptyKey { after: None })
        );
        assert_eq!(
            tokenize("A=1; =2", &never_secret),
            Err(Error::EmptyKey {
                after: Some("A".into())
            })
        );
        assert_eq!(
            tokenize("A=1;Database", &never_secret),
            Err(Error::MissingEquals {
                text: Some("Database".into()),
                after: Some("A".into())
            })
        );
        let err = tokenize("A=1; [email protected] ;B=2", &never_secret).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'[email protected]' (after property 'A') is not Name=value: write properties as Name=value;Name=value, quoting values that contain ';'"
        );
    }

    #[test]
    fn text_after_a_secret_is_never_shown() {
        let secret = |k: &str| k == "Password";
        let err = tokenize("Password=ab;cdSECRET;X=1", &secret).unwrap_err();
        assert_eq!(
            err,
            Error::MissingEquals {
                text: None,
                after: Some("Password".into())
            }
        );
        assert!(!err.to_string().contains("cdSECRET"));
    }

    #[test]
    fn nested_names_carry_the_prefix() {
        assert_eq!(
            tokenize_nested("MFAType='x", "SSOProperties.", &never_secret),
            Err(Error::UnterminatedQuote {
                key: "SSOProperties.MFAType".into(),
                quote: '\''
            })
        );
    }

    #[test]
    fn quote_value_round_trips() {
        for v in ["plain", "", " padded ", "a;b", "it's", "\"q\"", "x=y"] {
            let s = format!("K={};", quote_value(v));
            assert_eq!(pairs(&s), kv(&[("K", v)]), "{s}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(input in any::<String>()) {
            let _ = tokenize(&input, &never_secret);
            let _ = tokenize_nested(&input, "SSOProperties.", &|_: &str| true);
        }

        #[test]
        fn never_panics_on_connection_string_like_input(input in "[A-Za-z=;'\" \t\u{e9}\u{1F600}]{0,64}") {
            let _ = tokenize(&input, &never_secret);
        }

        #[test]
        fn written_pairs_read_back(
            items in proptest::collection::vec(("[A-Za-z][A-Za-z0-9_]{0,12}", any::<String>()), 0..6)
        ) {
            let written: String = items
                .iter()
                .map(|(k, v)| format!(" {k} = {} ;", quote_value(v)))
                .collect();
            let expected: Vec<(String, String)> = items
                .iter()
                .map(|(k, v)| {
                    // Bare values are trimmed; quote_value quotes padded values, so none is lost.
                    (k.clone(), v.clone())
                })
                .collect();
            prop_assert_eq!(pairs(&written), expected);
        }
    }
}
