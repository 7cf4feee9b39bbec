//! Label selectors as kubectl takes them with `-l`: `app=web`, `tier!=db`,
//! `env in (prod,staging)`, `env notin (dev)`, `gpu`, `!spot`, joined by
//! commas (all must hold).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector(Vec<Requirement>);

/// Splits at commas outside parentheses.
fn terms(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text[start..].trim());
    out.into_iter().filter(|t| !t.is_empty()).collect()
}

fn set(values: &str) -> Option<Vec<String>> {
    let inner = values.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

impl Selector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |t: &str| format!("invalid label selector term {t:?} in {text:?}");
        let mut reqs = Vec::new();
        for t in terms(text) {
            let req = if let Some((k, v)) = t.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = t.split_once(" notin ") {
                Requirement::NotIn(k.trim().into(), set(v).ok_or_else(|| bad(t))?)
            } else if let Some((k, v)) = t.split_once(" in ") {
                Requirement::In(k.trim().into(), set(v).ok_or_else(|| bad(t))?)
            } else if let Some(k) = t.strip_prefix('!') {
                Requirement::DoesNotExist(k.trim().into())
            } else {
                Requirement::Exists(t.into())
            };
            let key = match &req {
                Requirement::Equals(k, _)
                | Requirement::NotEquals(k, _)
                | Requirement::In(k, _)
                | Requirement::NotIn(k, _)
                | Requirement::Exists(k)
                | Requirement::DoesNotExist(k) => k,
            };
            if !valid_key(key) {
                return Err(bad(t));
            }
            reqs.push(req);
        }
        Ok(Selector(reqs))
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_kubectl_form() {
        let l = labels(&[("app", "web"), ("env", "prod"), ("gpu", "")]);
        for (sel, want) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("env in (prod, staging)", true),
            ("env notin (prod)", false),
            ("gpu", true),
            ("!spot", true),
            ("!gpu", false),
            ("app=web,env in (dev,prod),!spot", true),
            ("app=web,env=dev", false),
        ] {
            assert_eq!(
                Selector::parse(sel).unwrap().matches(Some(&l)),
                want,
                "{sel}"
            );
        }
        assert!(!Selector::parse("app=web").unwrap().matches(None));
    }

    #[test]
    fn malformed_selectors_are_errors() {
        assert!(Selector::parse("env in prod").is_err());
        assert!(Selector::parse("a b=c").is_err());
    }
}
