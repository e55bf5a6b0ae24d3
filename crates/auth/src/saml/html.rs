//! Just enough HTML reading for IdP login pages: `<form>` actions and `<input>` name/value
//! pairs, with character references decoded (`&#x2b;` in a SAMLResponse is a `+`).

/// An `<input>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) kind: String,
}

/// A `<form>` and the inputs inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pub(crate) action: Option<String>,
    pub(crate) inputs: Vec<Input>,
}

/// Every form of the page (inputs outside any form are collected into a form without action).
pub(crate) fn forms(html: &str) -> Vec<Form> {
    let mut forms = Vec::new();
    let mut current: Option<Form> = None;
    let mut loose = Form {
        action: None,
        inputs: Vec::new(),
    };
    let lower = html.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(off) = lower[pos..].find('<') {
        let start = pos + off + 1;
        let name_end = lower[start..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..name_end];
        let Some(close) = tag_end(html, name_end) else {
            break;
        };
        let attrs = &html[name_end..close];
        match tag {
            "form" => {
                if let Some(f) = current.take() {
                    forms.push(f);
                }
                current = Some(Form {
                    action: attr(attrs, "action"),
                    inputs: Vec::new(),
                });
            }
            "/form" => {
                if let Some(f) = current.take() {
                    forms.push(f);
                }
            }
            "input" => {
                let input = Input {
                    name: attr(attrs, "name").unwrap_or_default(),
                    value: attr(attrs, "value").unwrap_or_default(),
                    kind: attr(attrs, "type")
                        .unwrap_or_else(|| "text".into())
                        .to_ascii_lowercase(),
                };
                current.as_mut().unwrap_or(&mut loose).inputs.push(input);
            }
            "!--" => {
                if let Some(e) = html[start..].find("-->") {
                    pos = start + e + 3;
                    continue;
                }
            }
            _ => {}
        }
        pos = close + 1;
    }
    forms.extend(current);
    if !loose.inputs.is_empty() {
        forms.push(loose);
    }
    forms
}

/// The value of the first input named `name` (case-insensitive) anywhere on the page.
pub(crate) fn input_value(html: &str, name: &str) -> Option<String> {
    forms(html)
        .into_iter()
        .flat_map(|f| f.inputs)
        .find(|i| i.name.eq_ignore_ascii_case(name))
        .map(|i| i.value)
}

/// The index of the `>` closing a tag whose attributes start at `from`, skipping quoted values.
fn tag_end(html: &str, from: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in html[from..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(from + i),
            _ => {}
        }
    }
    None
}

/// An attribute's decoded value from a tag's attribute text.
fn attr(attrs: &str, wanted: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, remaining) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                    Some(end) => (&after[1..1 + end], &after[end + 2..]),
                    None => (&after[1..], ""),
                },
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            rest = remaining;
            v
        } else {
            ""
        };
        if name.eq_ignore_ascii_case(wanted) {
            return Some(decode_entities(value));
        }
        if name.is_empty() {
            return None;
        }
    }
}

/// Decodes character references (`&#43;`, `&#x2b;`) and the common named ones.
pub(crate) fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &rest[1..semi];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_inputs_and_entities() {
        let html = r#"<html><!-- <input name="commented" value="x"> -->
            <form method="post" id="loginForm" action="/adfs/ls/?client-request-id=1&amp;x=2">
              <input id="userNameInput" name="UserName" type="email" value="" />
              <INPUT name='Password' type=password>
              <input type="hidden" name="AuthMethod" value="FormsAuthentication"/>
            </form>
            <form action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="PD94bWw&#x2b;Cg&#61;&#61;" /></form>"#;
        let f = forms(html);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].action.as_deref(),
            Some("/adfs/ls/?client-request-id=1&x=2")
        );
        let names: Vec<_> = f[0]
            .inputs
            .iter()
            .map(|i| (i.name.as_str(), i.kind.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("UserName", "email"),
                ("Password", "password"),
                ("AuthMethod", "hidden")
            ]
        );
        assert_eq!(
            input_value(html, "samlresponse").as_deref(),
            Some("PD94bWw+Cg==")
        );
        assert_eq!(input_value(html, "commented"), None);
    }

    #[test]
    fn leaves_unknown_entities_alone() {
        assert_eq!(decode_entities("a&b;c&#65;&zz"), "a&b;cA&zz");
    }
}
