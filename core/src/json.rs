//! JSON read with structs taken from JSON objects only.
//!
//! serde_json reads a struct from an object and also from an array of its field values in
//! declaration order (`[1000, 200]` for `{"input": 1000, "output": 200}`). No byokit input is
//! written that way, and the second form costs a second copy of every struct's reading code in
//! each build: 21 KB of the npm package's WebAssembly, 5.6 KB gzipped (docs/benchmarks.md).
//! [`from_slice`] reads through [`ObjectsOnly`], which hands everything to serde_json unchanged
//! except that a struct, at any depth, is asked for as a map: the array form is then an
//! `invalid type` error, and its code is never compiled.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::Deserialize;

/// Reads one JSON value (and nothing after it but whitespace), structs from objects only.
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(ObjectsOnly(&mut json))?;
    json.end()?;
    Ok(value)
}

/// A serde part (deserializer, visitor, seed, map, sequence or enum access) wrapped so that
/// every part it hands on is wrapped too, and every struct is read by `deserialize_map`.
#[derive(Debug, Clone, Copy)]
pub struct ObjectsOnly<T>(pub T);

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method($($arg,)* ObjectsOnly(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectsOnly<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16() deserialize_i32()
        deserialize_i64() deserialize_i128() deserialize_u8() deserialize_u16() deserialize_u32()
        deserialize_u64() deserialize_u128() deserialize_f32() deserialize_f64()
        deserialize_char() deserialize_str() deserialize_string() deserialize_bytes()
        deserialize_byte_buf() deserialize_option() deserialize_unit()
        deserialize_unit_struct(name: &'static str)
        deserialize_newtype_struct(name: &'static str)
        deserialize_seq() deserialize_tuple(len: usize)
        deserialize_tuple_struct(name: &'static str, len: usize)
        deserialize_map()
        deserialize_enum(name: &'static str, variants: &'static [&'static str])
        deserialize_identifier() deserialize_ignored_any()
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(ObjectsOnly(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectsOnly<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char) visit_str(&str)
        visit_borrowed_str(&'de str) visit_string(String) visit_bytes(&[u8])
        visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(ObjectsOnly(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(ObjectsOnly(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(ObjectsOnly(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(ObjectsOnly(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(ObjectsOnly(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ObjectsOnly<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(ObjectsOnly(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for ObjectsOnly<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(ObjectsOnly(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for ObjectsOnly<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(ObjectsOnly(seed))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(ObjectsOnly(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for ObjectsOnly<A> {
    type Error = A::Error;
    type Variant = ObjectsOnly<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(ObjectsOnly(seed))?;
        Ok((value, ObjectsOnly(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for ObjectsOnly<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(ObjectsOnly(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, ObjectsOnly(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, ObjectsOnly(visitor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Tokens {
        input: u64,
        #[serde(default)]
        output: u64,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Call<'a> {
        model: &'a str,
        usage: Option<Tokens>,
        #[serde(default)]
        by_key: BTreeMap<String, Vec<Tokens>>,
    }

    #[test]
    fn structs_read_from_objects_at_every_depth() {
        let call: Call =
            from_slice(br#"{"model": "gpt-4o", "usage": {"input": 3}, "by_key": {"a": [{"input": 1, "output": 2}]}}"#)
                .unwrap();
        assert_eq!(call.model, "gpt-4o");
        assert_eq!(
            call.usage,
            Some(Tokens {
                input: 3,
                output: 0
            })
        );
        assert_eq!(
            call.by_key["a"],
            [Tokens {
                input: 1,
                output: 2
            }]
        );
        assert_eq!(
            from_slice::<Call>(br#"{"model": "m", "usage": null}"#)
                .unwrap()
                .usage,
            None
        );
    }

    #[test]
    fn a_struct_as_an_array_is_a_typed_error_at_every_depth() {
        // serde_json alone takes all three.
        for (json, column) in [
            (r#"[1, 2]"#, 0),
            (r#"{"model": "m", "usage": [1, 2]}"#, 24),
            (r#"{"model": "m", "by_key": {"a": [[1, 2]]}}"#, 32),
        ] {
            let what = if column == 0 { "Tokens" } else { "Call" };
            let err = match what {
                "Tokens" => {
                    assert!(serde_json::from_str::<Tokens>(json).is_ok());
                    from_slice::<Tokens>(json.as_bytes()).unwrap_err()
                }
                _ => {
                    assert!(serde_json::from_str::<Call>(json).is_ok());
                    from_slice::<Call>(json.as_bytes()).unwrap_err()
                }
            };
            assert!(err.is_data(), "{json}: {err}");
            assert_eq!(
                err.to_string(),
                format!("invalid type: sequence, expected struct Tokens at line 1 column {column}"),
                "{json}"
            );
        }
    }

    #[test]
    fn everything_else_reads_as_serde_json_reads_it() {
        let text = br#"{"model": "m\u00e9", "usage": {"input": 1, "input": 2}}"#;
        assert_eq!(
            from_slice::<serde_json::Value>(text).unwrap(),
            serde_json::from_slice::<serde_json::Value>(text).unwrap()
        );
        for bad in [
            &br#"{"model": "m", "usage": {"input": 1, "input": 2}}"#[..],
            b"{\"model\": 1}",
            b"{} x",
            b"{",
        ] {
            assert_eq!(
                from_slice::<Call>(bad).unwrap_err().to_string(),
                serde_json::from_slice::<Call>(bad).unwrap_err().to_string()
            );
        }
    }
}
