//! One page of a LIST, parsed as its answer arrives: each item is decoded
//! and stripped on its own, so neither the answer's text (42 MB for 10,000
//! pods from the watch cache) nor all its items' full trees are ever held
//! at once.

use crate::source::dump::{Keep, LAST_APPLIED};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::Resource;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::io::Read;

/// Which objects of a LIST are worth parsing, told from their JSON text
/// before it is parsed. A name or image appears in the text as it is (the
/// API server escapes only control characters, quotes, `\`, `<`, `>`
/// and `&`), so a test on the text never drops an object that has it.
#[derive(Debug, Clone)]
pub(super) enum Mentions {
    /// Every object.
    Any,
    /// Objects whose text holds one of these strings.
    OneOf(Vec<String>),
}

impl Mentions {
    fn matches(&self, text: &str) -> bool {
        match self {
            Mentions::Any => true,
            Mentions::OneOf(needles) => needles.iter().any(|n| text.contains(n.as_str())),
        }
    }
}

/// What is kept of each item of a page.
#[derive(Debug, Clone)]
pub(super) struct Wanted {
    pub(super) mentions: Mentions,
    pub(super) keep: Keep,
}

impl Wanted {
    /// The object `raw` holds, if wanted, stripped of its managedFields
    /// (large, never read) and, for a diagnosis, of the last-applied
    /// annotation (a copy of the object). Its owners and finalizers keep no
    /// spare room: most objects have one of each, in a list that parsing
    /// left room for four in.
    fn parse<K: Resource + DeserializeOwned>(&self, raw: &str) -> serde_json::Result<Option<K>> {
        if !self.mentions.matches(raw) {
            return Ok(None);
        }
        let mut o: K = serde_json::from_str(raw)?;
        let meta = o.meta_mut();
        meta.managed_fields = None;
        if let Some(owners) = &mut meta.owner_references {
            owners.shrink_to_fit();
        }
        if let Some(finalizers) = &mut meta.finalizers {
            finalizers.shrink_to_fit();
        }
        if self.keep == Keep::Diagnosis {
            if let Some(annotations) = &mut meta.annotations {
                annotations.remove(LAST_APPLIED);
            }
        }
        Ok(Some(o))
    }
}

/// The wanted items of one page read from `reader`, and its continue token.
pub(super) fn read_page<K, R>(
    reader: R,
    wanted: &Wanted,
) -> serde_json::Result<(Vec<K>, Option<String>)>
where
    K: Resource + DeserializeOwned,
    R: Read,
{
    let mut items = Vec::new();
    let mut continue_token = None;
    frames(reader, |frame| {
        match frame {
            Frame::Item(text) => items.extend(wanted.parse(utf8(text)?)?),
            Frame::Member {
                key: b"metadata",
                value,
            } => {
                let meta: Option<ListMeta> = serde_json::from_slice(value)?;
                continue_token = meta.and_then(|m| m.continue_);
            }
            Frame::Member { value, .. } => {
                serde_json::from_slice::<IgnoredAny>(value)?;
            }
        }
        Ok(())
    })?;
    Ok((items, continue_token))
}

fn utf8(text: &[u8]) -> serde_json::Result<&str> {
    std::str::from_utf8(text).map_err(|e| serde::de::Error::custom(format!("not UTF-8: {e}")))
}

/// One part of a list's text.
enum Frame<'a> {
    /// An element of `items`.
    Item(&'a [u8]),
    /// Any other member of the list object (`items: null` too).
    Member { key: &'a [u8], value: &'a [u8] },
}

/// Where the framing is in the list object.
#[derive(Clone, Copy, PartialEq)]
enum At {
    Start,
    /// After `{`: a key or the end.
    FirstKey,
    /// After `,`: a key.
    Key,
    InKey,
    Colon,
    Value,
    /// In a member's value (its nesting below the list object).
    InValue {
        nesting: usize,
    },
    /// After `items`: `,` or the end.
    AfterMember,
    /// After `[`: an element of `items` or its end.
    FirstItem,
    /// After `,`: an element of `items`.
    Item,
    InItem {
        nesting: usize,
    },
    End,
}

/// Splits a list's text into its members and the elements of its `items`,
/// in the order they come, each handed over as one slice of text; serde_json
/// parses each from memory (reading a byte at a time from a stream is
/// several times slower). Only strings and nesting are followed here: what
/// each part holds is serde_json's to check.
fn frames<R: Read>(
    mut reader: R,
    mut each: impl FnMut(Frame) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    let mut chunk = vec![0u8; 1 << 16];
    let mut at = At::Start;
    let mut key = Vec::new();
    let mut part = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(serde_json::Error::io(e)),
        };
        let bytes = &chunk[..n];
        // Where the part being read starts in this chunk.
        let mut from =
            matches!(at, At::InValue { .. } | At::InItem { .. } | At::InKey).then_some(0);
        let mut i = 0;
        while i < n {
            if in_string {
                if escaped {
                    escaped = false;
                    i += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                    None => {
                        i = n;
                        continue;
                    }
                    Some(k) => {
                        i += k;
                        if bytes[i] == b'\\' {
                            escaped = true;
                        } else {
                            in_string = false;
                            if at == At::InKey {
                                key.extend_from_slice(&bytes[from.take().unwrap_or(i)..i]);
                                at = At::Colon;
                            }
                        }
                        i += 1;
                        continue;
                    }
                }
            }
            let b = bytes[i];
            match at {
                At::Start
                | At::FirstKey
                | At::Key
                | At::Colon
                | At::Value
                | At::AfterMember
                | At::FirstItem
                | At::Item
                | At::End
                    if b.is_ascii_whitespace() => {}
                At::Start if b == b'{' => at = At::FirstKey,
                At::FirstKey | At::Key if b == b'"' => {
                    key.clear();
                    in_string = true;
                    at = At::InKey;
                    from = Some(i + 1);
                }
                At::FirstKey | At::AfterMember if b == b'}' => at = At::End,
                At::AfterMember if b == b',' => at = At::Key,
                At::Colon if b == b':' => at = At::Value,
                At::Value if b == b'[' && key == b"items" => at = At::FirstItem,
                At::Value => {
                    at = At::InValue { nesting: 0 };
                    part.clear();
                    from = Some(i);
                    continue;
                }
                At::FirstItem if b == b']' => at = At::AfterMember,
                At::FirstItem | At::Item if b != b',' && b != b']' => {
                    at = At::InItem { nesting: 0 };
                    part.clear();
                    from = Some(i);
                    continue;
                }
                At::InValue { nesting } | At::InItem { nesting } => {
                    let closes = if matches!(at, At::InValue { .. }) {
                        b'}'
                    } else {
                        b']'
                    };
                    let nesting = match b {
                        b'"' => {
                            in_string = true;
                            nesting
                        }
                        b'{' | b'[' => nesting + 1,
                        b'}' | b']' if nesting > 0 => nesting - 1,
                        _ if nesting == 0 && (b == b',' || b == closes) => {
                            part.extend_from_slice(&bytes[from.take().unwrap_or(i)..i]);
                            let text = part.trim_ascii_end();
                            let ended = b == closes;
                            if matches!(at, At::InValue { .. }) {
                                each(Frame::Member {
                                    key: &key,
                                    value: text,
                                })?;
                                at = if ended { At::End } else { At::Key };
                            } else {
                                each(Frame::Item(text))?;
                                at = if ended { At::AfterMember } else { At::Item };
                            }
                            i += 1;
                            continue;
                        }
                        _ => nesting,
                    };
                    at = match at {
                        At::InValue { .. } => At::InValue { nesting },
                        _ => At::InItem { nesting },
                    };
                }
                _ => {
                    return Err(serde::de::Error::custom(format!(
                        "not a Kubernetes list: unexpected `{}`",
                        char::from(b).escape_default()
                    )))
                }
            }
            i += 1;
        }
        if let Some(from) = from {
            let into = if at == At::InKey { &mut key } else { &mut part };
            into.extend_from_slice(&bytes[from..n]);
        }
    }
    if at == At::End {
        Ok(())
    } else {
        Err(serde::de::Error::custom("the list ends early"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Pod;

    fn page(json: &str, mentions: Mentions, keep: Keep) -> (Vec<Pod>, Option<String>) {
        read_page(json.as_bytes(), &Wanted { mentions, keep }).unwrap()
    }

    const LIST: &str = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"next"},
        "items":[
          {"metadata":{"name":"a","namespace":"n","managedFields":[{"manager":"kubectl"}],
                       "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r","uid":"u"}],
                       "finalizers":["example.com/keep"],
                       "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}","keep":"me"}},
           "spec":{"containers":[{"name":"c","image":"registry.k8s.io/sig-storage/csi-provisioner:v5"}]}},
          {"metadata":{"name":"b","namespace":"n"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}
        ]}"#;

    #[test]
    fn items_are_read_stripped_with_the_continue_token() {
        let (pods, token) = page(LIST, Mentions::Any, Keep::Diagnosis);
        assert_eq!(token.as_deref(), Some("next"));
        assert_eq!(pods.len(), 2);
        let meta = &pods[0].metadata;
        assert!(meta.managed_fields.is_none());
        let annotations = meta.annotations.as_ref().unwrap();
        assert!(!annotations.contains_key(LAST_APPLIED));
        assert_eq!(annotations.get("keep").map(String::as_str), Some("me"));
        assert_eq!(meta.owner_references.as_ref().unwrap().capacity(), 1);
        assert_eq!(meta.finalizers.as_ref().unwrap().capacity(), 1);
        // collect keeps the annotation (it redacts it itself).
        let (pods, _) = page(LIST, Mentions::Any, Keep::Collect);
        assert!(pods[0]
            .metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key(LAST_APPLIED));
    }

    #[test]
    fn only_the_items_that_mention_a_needle_are_parsed() {
        let (pods, _) = page(
            LIST,
            Mentions::OneOf(vec!["csi-provisioner".into()]),
            Keep::Diagnosis,
        );
        let names: Vec<_> = pods.iter().map(|p| p.metadata.name.as_deref()).collect();
        assert_eq!(names, [Some("a")]);
    }

    /// Hands out its text a few bytes at a time, as a connection may.
    struct Trickle<'a> {
        text: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.text.len());
            buf[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    #[test]
    fn items_read_in_pieces_of_any_size_are_the_items_of_the_whole_text() {
        // Quotes, backslashes, brackets and commas inside strings, an
        // escaped key, and `items` before `metadata` (a server need not
        // order them).
        let text = r#" {"apiVersion":"v1","items":[
            {"metadata":{"name":"a","namespace":"n","annotations":{"q":"say \"}]\" ,{[","b":"\\","u":"\u00e9\"x"}},
             "spec":{"containers":[{"name":"c","image":"i","args":["[", "]", "{,}"]}]}} ,
            {"metadata":{"name":"b\u0022","namespace":"n","labels":{}},"spec":{"containers":[]}},
            {"metadata":{"name":"c","namespace":"n"}}
          ] , "kind":"PodList", "metad\u0061ta":{"x":[1,{"y":"}"}]},
          "metadata":{"resourceVersion":"9","continue":"tok,en"}} "#;
        let whole: serde_json::Value = serde_json::from_str(text).unwrap();
        let expected: Vec<Pod> = serde_json::from_value(whole["items"].clone()).unwrap();
        let wanted = Wanted {
            mentions: Mentions::Any,
            keep: Keep::Collect,
        };
        for step in [1, 2, 3, 5, 7, 64, 1 << 16] {
            let reader = Trickle {
                text: text.as_bytes(),
                step,
            };
            let (pods, token): (Vec<Pod>, _) = read_page(reader, &wanted).unwrap();
            assert_eq!(pods, expected, "in pieces of {step}");
            assert_eq!(token.as_deref(), Some("tok,en"), "in pieces of {step}");
        }
        assert_eq!(
            expected[0].metadata.annotations.as_ref().unwrap()["q"],
            r#"say "}]" ,{["#
        );
    }

    #[test]
    fn text_that_is_not_one_whole_list_is_an_error() {
        let wanted = Wanted {
            mentions: Mentions::Any,
            keep: Keep::Diagnosis,
        };
        for text in [
            "",
            "[]",
            r#"{"items":[{"metadata":{"name":"a"}}"#,
            r#"{"items":[{"metadata":{"name":"a}}]}"#,
            r#"{"items":[{"metadata":{"name":"a"}}]} {}"#,
            r#"{"items":[{"metadata":{"name":"a"}},]}"#,
            r#"{"items" [], "kind":"PodList"}"#,
            r#"{"kind":PodList,"items":[]}"#,
            r#"{"items":[7]}"#,
        ] {
            assert!(
                read_page::<Pod, _>(text.as_bytes(), &wanted).is_err(),
                "{text:?} was read"
            );
        }
    }

    #[test]
    fn a_list_without_items_or_metadata_is_empty_and_a_cut_answer_is_an_error() {
        let (pods, token) = page(
            r#"{"kind":"PodList","items":null}"#,
            Mentions::Any,
            Keep::Diagnosis,
        );
        assert!(pods.is_empty() && token.is_none());
        let cut = &LIST[..LIST.len() / 2];
        assert!(read_page::<Pod, _>(
            cut.as_bytes(),
            &Wanted {
                mentions: Mentions::Any,
                keep: Keep::Diagnosis
            }
        )
        .is_err());
    }
}
