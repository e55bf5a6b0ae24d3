//! Athena's result CSV: header always, every non-NULL value in `"` with `"` doubled, NULL as an
//! empty unquoted field, `\n` after every row. The same file is read back page by page for
//! GetQueryResults, so NULL and the empty string stay apart.

use std::io::{self, BufRead};

/// Appends one CSV row to `out`.
pub(crate) fn encode_row<S: AsRef<str>>(fields: &[Option<S>], out: &mut Vec<u8>) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if let Some(value) = field {
            out.push(b'"');
            for b in value.as_ref().bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        }
    }
    out.push(b'\n');
}

/// Reads one row; returns the fields and the number of bytes consumed, or `None` at the end.
pub(crate) fn read_row(
    reader: &mut impl BufRead,
) -> io::Result<Option<(Vec<Option<String>>, u64)>> {
    let mut fields = Vec::new();
    let mut consumed = 0u64;
    let mut byte = [0u8; 1];
    let mut next = |consumed: &mut u64| -> io::Result<Option<u8>> {
        match reader.read(&mut byte)? {
            0 => Ok(None),
            _ => {
                *consumed += 1;
                Ok(Some(byte[0]))
            }
        }
    };
    let mut first = true;
    loop {
        let Some(b) = next(&mut consumed)? else {
            return if first {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "result file ends inside a row",
                ))
            };
        };
        first = false;
        match b {
            b'"' => {
                let mut value = Vec::new();
                loop {
                    match next(&mut consumed)? {
                        Some(b'"') => match next(&mut consumed)? {
                            Some(b'"') => value.push(b'"'),
                            Some(b',') => {
                                fields.push(Some(into_string(value)?));
                                break;
                            }
                            Some(b'\n') => {
                                fields.push(Some(into_string(value)?));
                                return Ok(Some((fields, consumed)));
                            }
                            _ => {
                                return Err(io::Error::new(
                                    io::ErrorKind::InvalidData,
                                    "malformed quoted field",
                                ));
                            }
                        },
                        Some(other) => value.push(other),
                        None => {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "unterminated quoted field",
                            ));
                        }
                    }
                }
            }
            b',' => fields.push(None),
            b'\n' => {
                fields.push(None);
                return Ok(Some((fields, consumed)));
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "unquoted value in result file",
                ));
            }
        }
    }
}

fn into_string(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bytes_and_round_trip() {
        let mut out = Vec::new();
        encode_row(&[Some("a"), Some("b")], &mut out);
        encode_row(
            &[Some("say \"hi\""), None, Some(""), Some("x,y\nz")],
            &mut out,
        );
        encode_row::<&str>(&[None], &mut out);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "\"a\",\"b\"\n\"say \"\"hi\"\"\",,\"\",\"x,y\nz\"\n\n"
        );
        let mut reader = io::Cursor::new(out);
        let (row, n) = read_row(&mut reader).unwrap().unwrap();
        assert_eq!(row, vec![Some("a".to_owned()), Some("b".to_owned())]);
        assert_eq!(n, 8);
        let (row, _) = read_row(&mut reader).unwrap().unwrap();
        assert_eq!(
            row,
            vec![
                Some("say \"hi\"".to_owned()),
                None,
                Some(String::new()),
                Some("x,y\nz".to_owned())
            ]
        );
        let (row, _) = read_row(&mut reader).unwrap().unwrap();
        assert_eq!(row, vec![None]);
        assert!(read_row(&mut reader).unwrap().is_none());
    }
}
