//! Streaming a JSON document into the collector: the items of a `List`
//! are decoded one at a time as they are parsed, so a large capture never
//! exists as one `Value` tree.

use super::slim::Slim;
use super::Collector;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// The scalar `visit_*` methods of a visitor, each handing the value as a
/// [`Value`] to one body.
macro_rules! scalars {
    (|$self:ident, $v:ident| $body:expr) => {
        scalars!(@one $self, $v, $body, visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);
        fn visit_str<E>($self, $v: &str) -> Result<Self::Value, E> {
            let $v = Value::from($v);
            $body
        }
    };
    (@one $self:ident, $v:ident, $body:expr, $($name:ident: $ty:ty),*) => {
        $(
            fn $name<E>($self, $v: $ty) -> Result<Self::Value, E> {
                let $v = Value::from($v);
                $body
            }
        )*
    };
}

/// One top-level JSON document, streamed into the collector.
pub(super) struct DocSeed<'a> {
    pub(super) c: &'a mut Collector,
    pub(super) label: &'a str,
    pub(super) doc: usize,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Kubernetes object or list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut fields = serde_json::Map::new();
        let mut pending = Vec::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                let seed = ItemsSeed {
                    c: &mut *self.c,
                    label: self.label,
                    doc: self.doc,
                    inherited: list_item_kind(&fields),
                    pending: &mut pending,
                };
                match map.next_value_seed(seed)? {
                    Some(other) => {
                        fields.insert(key, other);
                    }
                    None => streamed = true,
                }
            } else if let Some(value) = Slim::object(self.c.keep).field(&key, &mut map)? {
                fields.insert(key, value);
            }
        }
        if streamed {
            // Items without a kind waited for the list's own kind.
            let inherited = list_item_kind(&fields);
            let inherited = inherited.as_ref().map(|(a, k)| (a.as_str(), k.as_str()));
            for item in pending {
                self.c.add_value(self.label, self.doc, item, inherited);
            }
        } else {
            self.c
                .add_value(self.label, self.doc, Value::Object(fields), None);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element_seed(Slim::object(self.c.keep))? {
            self.c.add_value(self.label, self.doc, item, None);
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    // A scalar document is not an object: the collector records it as such.
    scalars!(|self, v| {
        self.c.add_value(self.label, self.doc, v, None);
        Ok(())
    });
}

/// `(apiVersion, kind)` that items of a typed list (`PodList`) inherit.
fn list_item_kind(fields: &serde_json::Map<String, Value>) -> Option<(String, String)> {
    let kind = fields.get("kind")?.as_str()?.strip_suffix("List")?;
    let api = fields
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("v1");
    (!kind.is_empty()).then(|| (api.to_string(), kind.to_string()))
}

/// The `items` of a list: each added as soon as it is parsed. `None` when
/// they were a list; anything else is handed back as a plain field.
struct ItemsSeed<'a> {
    c: &'a mut Collector,
    label: &'a str,
    doc: usize,
    inherited: Option<(String, String)>,
    pending: &'a mut Vec<Value>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Option<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        let inherited = self
            .inherited
            .as_ref()
            .map(|(a, k)| (a.as_str(), k.as_str()));
        while let Some(item) = seq.next_element_seed(Slim::object(self.c.keep))? {
            if inherited.is_some() || item.get("kind").is_some() {
                self.c.add_value(self.label, self.doc, item, inherited);
            } else {
                self.pending.push(item);
            }
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
    }

    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }

    scalars!(|self, v| Ok(Some(v)));
}
