//! `-o yaml`: the JSON document in YAML block style, read the same by YAML
//! 1.2 and YAML 1.1 readers. serde_yaml_ng quotes what YAML 1.2 would read
//! as another type, but leaves `yes`, `no`, `on`, `off`, `y`, `n` plain,
//! which YAML 1.1 readers (PyYAML, older Go and Ruby libraries) take for
//! booleans, and timestamps they take for dates. Those are quoted here.

use serde_yaml_ng::Value;

/// The document as YAML, ending in a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Mapping(m) if !m.is_empty() => block(&mut out, value, 0),
        Value::Sequence(s) if !s.is_empty() => block(&mut out, value, 0),
        _ => {
            out.push_str(&scalar(value));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A non-empty mapping or sequence, each entry on a line of its own at
/// `indent`.
fn block(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Mapping(m) => {
            for (k, v) in m {
                pad(out, indent);
                entry(out, k, v, indent);
            }
        }
        Value::Sequence(s) => {
            for item in s {
                pad(out, indent);
                out.push_str("- ");
                item_at(out, item, indent + 2);
            }
        }
        other => {
            pad(out, indent);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// `key: value` of a mapping at `indent`, from the key on.
fn entry(out: &mut String, key: &Value, value: &Value, indent: usize) {
    out.push_str(&scalar(key));
    out.push(':');
    match value {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            block(out, value, indent + 2);
        }
        // As serde_yaml_ng writes them: a sequence under a key is not indented.
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            block(out, value, indent);
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(value));
            out.push('\n');
        }
    }
}

/// An item of a sequence, after its `- ` (at column `indent`).
fn item_at(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Mapping(m) if !m.is_empty() => {
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                entry(out, k, v, indent);
            }
        }
        Value::Sequence(s) if !s.is_empty() => {
            for (i, item) in s.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                out.push_str("- ");
                item_at(out, item, indent + 2);
            }
        }
        _ => {
            out.push_str(&scalar(value));
            out.push('\n');
        }
    }
}

/// A value that fits on the line after a key or `- `.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Mapping(m) if m.is_empty() => "{}".to_string(),
        Value::Sequence(s) if s.is_empty() => "[]".to_string(),
        // Not in the report; written as one flow line by the library.
        other => serde_json::to_string(other).expect("a YAML value is JSON"),
    }
}

fn string(s: &str) -> String {
    if read_otherwise_by_yaml_1_1(s) {
        // These never hold a quote, a line break or a control character.
        return format!("'{s}'");
    }
    let text = serde_yaml_ng::to_string(s).expect("a string serializes");
    let text = text.strip_suffix('\n').unwrap_or(&text);
    if text.contains('\n') {
        double_quoted(s)
    } else {
        text.to_string()
    }
}

/// Plain scalars that a YAML 1.1 reader takes for something other than a
/// string and that YAML 1.2 (and so serde_yaml_ng) does not: booleans,
/// timestamps, sexagesimal and underscored numbers. Erring on the side of
/// quoting costs nothing.
fn read_otherwise_by_yaml_1_1(s: &str) -> bool {
    const BOOLEANS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if BOOLEANS.contains(&s) {
        return true;
    }
    let b = s.as_bytes();
    // 2026-11-20, 2026-11-20T10:30:00Z, 2026-1-2 10:30:00
    let date = b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..].iter().take_while(|c| c.is_ascii_digit()).count() >= 1;
    if date {
        return true;
    }
    // 1:30, -1_000, 0b1010, 1_0.5
    let numeric = s
        .trim_start_matches(['+', '-'])
        .starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && s.chars()
            .all(|c| c.is_ascii_digit() || "+-_:.eEbBxXoOabcdefABCDEF".contains(c));
    numeric && (s.contains(':') || s.contains('_') || s.contains("0b"))
}

/// A double-quoted scalar: line breaks and every character YAML does not
/// print (or YAML 1.1 reads as a line break) escaped.
fn double_quoted(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'.. => {
                if matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') {
                    out.push_str(&format!("\\u{:04X}", u32::from(c)));
                } else {
                    out.push(c);
                }
            }
            _ => out.push_str(&format!("\\u{:04X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn doc(strings: &[&str]) -> Value {
        let mut inner = serde_yaml_ng::Mapping::new();
        for (i, s) in strings.iter().enumerate() {
            inner.insert(Value::String(format!("k{i}")), Value::String(s.to_string()));
        }
        let list = strings
            .iter()
            .map(|s| Value::String(s.to_string()))
            .collect();
        let mut m = serde_yaml_ng::Mapping::new();
        m.insert("list".into(), Value::Sequence(list));
        m.insert("map".into(), Value::Mapping(inner.clone()));
        m.insert(
            "items".into(),
            Value::Sequence(vec![Value::Mapping(inner), Value::Sequence(vec![])]),
        );
        Value::Mapping(m)
    }

    #[test]
    fn yaml_1_1_booleans_and_dates_are_quoted() {
        let words = ["yes", "no", "on", "off", "y", "n", "Y", "N", "Off", "TRUE"];
        let text = to_string(&doc(&words));
        for w in words {
            assert!(text.contains(&format!("- '{w}'\n")), "{w}: {text}");
            assert!(!text.contains(&format!(": {w}\n")), "{w}: {text}");
        }
        for s in ["2026-11-20T10:30:00Z", "1:30", "1_000"] {
            assert_eq!(string(s), format!("'{s}'"));
        }
        for s in ["yesterday", "node", "Pending 17m", "ok", "claim-not-found"] {
            assert_eq!(string(s), s);
        }
    }

    #[test]
    fn the_layout_is_serde_yaml_ngs() {
        let value = doc(&[
            "a",
            "b c",
            "",
            "x: y",
            "- z",
            "#",
            "multi\nline",
            "tab\there",
        ]);
        let ours = to_string(&value);
        let back: Value = serde_yaml_ng::from_str(&ours).unwrap();
        assert_eq!(back, value, "{ours}");
        let plain = serde_yaml_ng::to_value(
            serde_json::json!({"a": {"b": [1, {"c": true, "d": null}], "e": []}, "f": {}}),
        )
        .unwrap();
        assert_eq!(to_string(&plain), serde_yaml_ng::to_string(&plain).unwrap());
    }

    proptest! {
        #[test]
        fn any_string_reads_back_the_same(s in any::<String>(), t in "[ -~\n]{0,12}") {
            let value = doc(&[&s, &t]);
            let text = to_string(&value);
            let back: Value = serde_yaml_ng::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            prop_assert_eq!(back, value);
        }
    }
}
