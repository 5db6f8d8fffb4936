//! Strict JSON for JOSE headers and claims: duplicate member names are an error
//! (RFC 7515 §5.2, RFC 8725 §3.11) at every depth.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `bytes` as one JSON object, rejecting duplicate member names anywhere,
/// trailing data, and a byte-order mark.
pub(crate) fn parse_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Deserializes a [`Value`], failing on a repeated object member name.
#[derive(Clone, Copy)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if object.contains_key(&name) {
                return Err(de::Error::custom("duplicate member name"));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_objects() {
        let map = parse_object(br#" {"a": 1, "b": [true, null, "x", 1.5, {"c": -2}]} "#);
        assert_eq!(map.map(|m| m.len()), Some(2));
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(parse_object(br#"{"a": 1, "a": 2}"#).is_none());
        assert!(parse_object(br#"{"a": {"b": 1, "b": 1}}"#).is_none());
        assert!(parse_object(br#"{"a": [{"b": 1, "b": 2}]}"#).is_none());
        // Escaped spelling of the same name is still a duplicate.
        assert!(parse_object(br#"{"exp": 1, "\u0065xp": 2}"#).is_none());
    }

    #[test]
    fn rejects_non_objects_trailing_data_and_bom() {
        for input in [
            &b"[1]"[..],
            b"\"s\"",
            b"{} {}",
            b"{}x",
            b"\xef\xbb\xbf{}",
            b"",
            b"{",
            b"1e999",
        ] {
            assert!(
                parse_object(input).is_none(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
