//! What a diagnosis never reads, skipped while an object is parsed, so it
//! is never built in memory: `metadata.managedFields`, which the API server
//! adds to every object (never kept, not even by `collect`), and the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, a copy of
//! the whole object as it was applied (kept for `collect`, which writes it
//! unless it redacts). Container `env`, `command` and `args` stay: the
//! driver-component rules look for driver names in them.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

pub(in crate::source) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a load keeps of each object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keep {
    /// What the diagnosis reads.
    #[default]
    Diagnosis,
    /// Everything but `managedFields`, for `collect`.
    Collect,
}

/// Where in an object a value sits, as far as what is skipped depends on it.
#[derive(Clone, Copy)]
enum Level {
    Object,
    Metadata,
    Annotations,
}

/// One object (or any value where an object is expected), parsed into a
/// [`Value`] without what [`Keep`] leaves out.
#[derive(Clone, Copy)]
pub(super) struct Slim {
    keep: Keep,
    level: Level,
}

impl Slim {
    pub(super) fn object(keep: Keep) -> Self {
        Slim {
            keep,
            level: Level::Object,
        }
    }

    /// The value of `key` in a map at this level, or `None` to skip it.
    fn child(self, key: &str) -> Option<Option<Slim>> {
        let level = match (self.level, key) {
            (Level::Metadata, "managedFields") => return None,
            (Level::Annotations, LAST_APPLIED) if self.keep == Keep::Diagnosis => return None,
            (Level::Object, "metadata") => Level::Metadata,
            (Level::Metadata, "annotations") => Level::Annotations,
            _ => return Some(None),
        };
        Some(Some(Slim { level, ..self }))
    }
}

impl Slim {
    /// The value of `key`, read from `map` at this level; `None` when it
    /// is skipped.
    pub(super) fn field<'de, A: MapAccess<'de>>(
        self,
        key: &str,
        map: &mut A,
    ) -> Result<Option<Value>, A::Error> {
        Ok(match self.child(key) {
            None => {
                map.next_value::<IgnoredAny>()?;
                None
            }
            Some(Some(seed)) => Some(map.next_value_seed(seed)?),
            Some(None) => Some(map.next_value::<Value>()?),
        })
    }
}

/// Drops from an object already parsed what [`Slim`] skips while parsing
/// (YAML documents are parsed whole).
pub(super) fn trim(object: &mut Map<String, Value>, keep: Keep) {
    let Some(Value::Object(meta)) = object.get_mut("metadata") else {
        return;
    };
    meta.remove("managedFields");
    if keep == Keep::Diagnosis {
        if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
            annotations.remove(LAST_APPLIED);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Slim {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Slim {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(value) = self.field(&key, &mut map)? {
                out.insert(key, value);
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, keep: Keep) -> Value {
        let mut de = serde_json::Deserializer::from_str(text);
        Slim::object(keep).deserialize(&mut de).unwrap()
    }

    #[test]
    fn skips_managed_fields_and_the_last_applied_copy_only() {
        let text = r#"{"kind":"Deployment","metadata":{"name":"web","managedFields":[{"manager":"kubectl"}],
            "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"env\":\"x\"}","team":"a"},
            "labels":{"managedFields":"kept"}},
            "spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"kept"}}},
            "x":[1,-2,2.5,null,true,"s"]}}"#;
        let full: Value = serde_json::from_str(text).unwrap();
        let diagnosis = parse(text, Keep::Diagnosis);
        let mut expected = full.clone();
        trim(expected.as_object_mut().unwrap(), Keep::Diagnosis);
        assert_eq!(diagnosis, expected);
        assert!(diagnosis.pointer("/metadata/managedFields").is_none());
        assert_eq!(
            diagnosis.pointer("/metadata/annotations"),
            Some(&serde_json::json!({"team": "a"}))
        );
        // Only the object's own metadata: the same names elsewhere stay.
        assert_eq!(diagnosis["metadata"]["labels"]["managedFields"], "kept");
        assert_eq!(diagnosis["spec"], full["spec"]);

        let collect = parse(text, Keep::Collect);
        let mut expected = full;
        expected["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        assert_eq!(collect, expected);
    }

    #[test]
    fn values_that_are_not_objects_parse_as_they_are() {
        for text in [
            "[1,{\"metadata\":{}}]",
            "\"s\"",
            "null",
            "3",
            "{\"metadata\":7}",
        ] {
            let plain: Value = serde_json::from_str(text).unwrap();
            assert_eq!(parse(text, Keep::Diagnosis), plain, "{text}");
        }
    }
}
