//! One page of a LIST, parsed as its answer arrives: each item is decoded
//! and stripped on its own, so neither the answer's text (55 MB for 10,000
//! pods from the watch cache) nor all its items' full trees are ever held
//! at once.

use crate::source::dump::{Keep, LAST_APPLIED};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::Resource;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::io::Read;
use std::marker::PhantomData;

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
    /// annotation (a copy of the object).
    fn parse<K: Resource + DeserializeOwned>(&self, raw: &str) -> serde_json::Result<Option<K>> {
        if !self.mentions.matches(raw) {
            return Ok(None);
        }
        let mut o: K = serde_json::from_str(raw)?;
        let meta = o.meta_mut();
        meta.managed_fields = None;
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
    let mut de = serde_json::Deserializer::from_reader(reader);
    let page = PageSeed::<K> {
        wanted,
        kind: PhantomData,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(page)
}

struct PageSeed<'a, K> {
    wanted: &'a Wanted,
    kind: PhantomData<K>,
}

impl<'de, K: Resource + DeserializeOwned> DeserializeSeed<'de> for PageSeed<'_, K> {
    type Value = (Vec<K>, Option<String>);

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, K: Resource + DeserializeOwned> Visitor<'de> for PageSeed<'_, K> {
    type Value = (Vec<K>, Option<String>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        let mut continue_token = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "metadata" => {
                    let meta: Option<ListMeta> = map.next_value()?;
                    continue_token = meta.and_then(|m| m.continue_);
                }
                "items" => {
                    items = map.next_value_seed(ItemsSeed {
                        wanted: self.wanted,
                        kind: PhantomData,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((items, continue_token))
    }
}

struct ItemsSeed<'a, K> {
    wanted: &'a Wanted,
    kind: PhantomData<K>,
}

impl<'de, K: Resource + DeserializeOwned> DeserializeSeed<'de> for ItemsSeed<'_, K> {
    type Value = Vec<K>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<K>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, K: Resource + DeserializeOwned> Visitor<'de> for ItemsSeed<'_, K> {
    type Value = Vec<K>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_unit<E>(self) -> Result<Vec<K>, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<K>, A::Error> {
        let mut items = Vec::new();
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            if let Some(o) = self
                .wanted
                .parse(raw.get())
                .map_err(serde::de::Error::custom)?
            {
                items.push(o);
            }
        }
        Ok(items)
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
