//! Text helpers shared by the sources, the command line and the reports:
//! cluster text made safe for a terminal, URLs without their credentials,
//! and "did you mean" suggestions.

use std::borrow::Cow;

/// Characters that reorder or hide text: bidi embeddings, overrides and
/// isolates, and the marks that steer them.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// What a line break inside one line of cluster text is shown as: kubelet
/// and driver errors quote a mount command's output over several lines.
pub const LINE_BREAK: &str = " ⏎ ";

/// `s` on one line, safe for a terminal: each line break (`\n` or `\r\n`)
/// as [`LINE_BREAK`], a tab as a space, every other control character in
/// caret notation (`^[` for ESC, `^M` for a lone carriage return, `^?` for
/// DEL), C1 controls and bidi controls as `<U+202E>`.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                out.truncate(out.trim_end_matches([' ', '\t']).len());
                out.push_str(LINE_BREAK);
                while chars
                    .next_if(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
                    .is_some()
                {}
            }
            '\t' => out.push(' '),
            '\u{7F}' => out.push_str("^?"),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            c if needs_escape(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    if let Some(kept) = out.strip_suffix(LINE_BREAK) {
        out.truncate(kept.len());
    }
    Cow::Owned(out)
}

/// What a credential in a URL is replaced with.
const REDACTED: &str = "REDACTED";

/// Every URL in `text` (`scheme://…`, up to a space or a quote) without
/// its credentials: the user and password before `@` dropped, the value of
/// every query parameter replaced. The one way a server URL or an error
/// that may quote one is printed.
pub fn urls_for_display(text: &str) -> Cow<'_, str> {
    redact_urls(text, None, |_| true)
}

/// URLs in `text` with their userinfo replaced by `replacement`
/// (`scheme://REDACTED@host`), and the values of query parameters whose
/// names say key, token, password or secret: what `collect` keeps of an
/// argument.
pub fn url_userinfo_redacted(text: &str, replacement: &str) -> String {
    redact_urls(text, Some(replacement), names_a_credential).into_owned()
}

/// Words that make a name (a flag, a parameter) a credential.
pub fn names_a_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "token", "password", "passwd", "secret"]
        .iter()
        .any(|w| name.contains(w))
}

fn redact_urls<'a>(
    text: &'a str,
    userinfo: Option<&str>,
    query_value_goes: impl Fn(&str) -> bool,
) -> Cow<'a, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        let scheme_len = rest[..sep]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .count();
        let after = &rest[sep + 3..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(after.len());
        // Punctuation that ends a sentence or a clause is not the URL's.
        let end = after[..end]
            .trim_end_matches([',', ';', ':', '.', ')', ']'])
            .len();
        out.push_str(&rest[..sep + 3]);
        let url = &after[..end];
        rest = &after[end..];
        if scheme_len == 0 {
            out.push_str(url);
            continue;
        }
        let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        let (authority, tail) = url.split_at(authority_end);
        match authority.rfind('@') {
            Some(at) => {
                if let Some(r) = userinfo {
                    out.push_str(r);
                    out.push('@');
                }
                out.push_str(&authority[at + 1..]);
            }
            None => out.push_str(authority),
        }
        let (before_query, query_and_fragment) = match tail.find('?') {
            Some(q) => tail.split_at(q + 1),
            None => (tail, ""),
        };
        out.push_str(before_query);
        let (query, fragment) = match query_and_fragment.find('#') {
            Some(f) => query_and_fragment.split_at(f),
            None => (query_and_fragment, ""),
        };
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, v)) if !v.is_empty() && query_value_goes(k) => format!("{k}={REDACTED}"),
                _ => p.to_string(),
            })
            .collect();
        if !query.is_empty() {
            out.push_str(&params.join("&"));
        }
        out.push_str(fragment);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The names among `known` close enough to `wanted` to be what was meant,
/// best first (at most three); none for names longer than Kubernetes
/// allows, whose comparison would cost time quadratic in their length.
pub fn did_you_mean<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    const LONGEST: usize = 253;
    if wanted.len() > LONGEST {
        return Vec::new();
    }
    let mut close: Vec<(usize, &str)> = known
        .into_iter()
        .filter(|k| k.len() <= LONGEST && *k != wanted)
        .filter_map(|k| {
            let d = strsim::levenshtein(wanted, k);
            let bar = (wanted.chars().count().max(k.chars().count()) / 3).max(1);
            (d <= bar || k.starts_with(wanted) || wanted.starts_with(k)).then_some((d, k))
        })
        .collect();
    close.sort();
    close.dedup_by(|a, b| a.1 == b.1);
    close.into_iter().take(3).map(|(_, k)| k).collect()
}

/// `; did you mean a or b?`, or nothing.
pub fn did_you_mean_text(suggestions: &[&str]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        [init @ .., last] => format!("; did you mean {} or {last}?", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            urls_for_display("at https://admin:s3cret@10.0.0.1:6443/base?token=abc&x=1: refused"),
            "at https://10.0.0.1:6443/base?token=REDACTED&x=REDACTED: refused"
        );
        assert_eq!(
            urls_for_display("https://10.0.0.1:6443"),
            "https://10.0.0.1:6443"
        );
        assert_eq!(urls_for_display("no url: a://"), "no url: a://");
        assert_eq!(
            url_userinfo_redacted(
                "--db=postgres://u:p@db:5432/x?sslmode=off&password=p",
                "REDACTED"
            ),
            "--db=postgres://REDACTED@db:5432/x?sslmode=off&password=REDACTED"
        );
    }

    #[test]
    fn suggestions_are_close_names() {
        assert_eq!(
            did_you_mean("trainr", ["trainer", "preprocess", "db"]),
            ["trainer"]
        );
        assert!(did_you_mean("zzz", ["trainer"]).is_empty());
        assert_eq!(did_you_mean_text(&["a", "b"]), "; did you mean a or b?");
    }
}
