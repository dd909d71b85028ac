//! The exact JSON encoding of an `f64`, for `#[serde(with = "critscale_sweeps::exact")]`: a
//! finite value is a JSON number in its shortest round-trip form, ±∞ and NaN are the strings
//! `"inf"`, `"-inf"` and `"nan"` (JSON has no such numbers). Reading inverts it exactly, given
//! `serde_json`'s `float_roundtrip` feature (enabled by the workspace; without it about one
//! double in six comes back one ulp off). [`option`] does the same for `Option<f64>`, `None` as
//! `null`, and [`pair`] for an interval `[f64; 2]`.

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use serde_json::Value;

/// Writes `x` (see the module docs).
///
/// # Errors
/// Only the serializer's own.
pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else {
        s.serialize_str(non_finite_word(*x))
    }
}

/// Reads what [`serialize`] wrote.
///
/// # Errors
/// Anything but a number or one of the words `inf`, `-inf`, `nan`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(ExactVisitor)
}

fn non_finite_word(x: f64) -> &'static str {
    if x.is_nan() {
        "nan"
    } else if x > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

struct ExactVisitor;

impl Visitor<'_> for ExactVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number or one of \"inf\", \"-inf\", \"nan\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// `x` as a JSON value in the exact encoding.
pub fn to_value(x: f64) -> Value {
    serialize(&x, serde_json::value::Serializer).unwrap_or(Value::Null)
}

/// Reads a JSON value written by [`to_value`] (or [`serialize`]).
///
/// # Errors
/// One line naming what was found instead.
pub fn from_value(value: &Value) -> Result<f64, String> {
    deserialize(value).map_err(|e| format!("{e} (found {value})"))
}

/// `Option<f64>` in the exact encoding, `None` as `null`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `x`: `null` or the exact encoding of the value.
    ///
    /// # Errors
    /// Only the serializer's own.
    pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(v) => super::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    /// Reads what [`serialize`] wrote.
    ///
    /// # Errors
    /// Anything but `null`, a number or one of the words `inf`, `-inf`, `nan`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        #[derive(Deserialize)]
        struct Exact(#[serde(with = "super")] f64);
        Ok(Option::<Exact>::deserialize(d)?.map(|e| e.0))
    }
}

/// `[f64; 2]` (an interval) in the exact encoding, as a two-element JSON array.
pub mod pair {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Exact(#[serde(with = "super")] f64);

    /// Writes `[x0, x1]`, each in the exact encoding.
    ///
    /// # Errors
    /// Only the serializer's own.
    pub fn serialize<S: Serializer>(x: &[f64; 2], s: S) -> Result<S::Ok, S::Error> {
        [Exact(x[0]), Exact(x[1])].serialize(s)
    }

    /// Reads what [`serialize`] wrote.
    ///
    /// # Errors
    /// Anything but a two-element array of numbers or the words `inf`, `-inf`, `nan`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
        let [a, b] = <[Exact; 2]>::deserialize(d)?;
        Ok([a.0, b.0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Both {
        #[serde(with = "crate::exact")]
        x: f64,
        #[serde(with = "crate::exact::option")]
        y: Option<f64>,
    }

    #[test]
    fn every_kind_of_double_round_trips_through_text() {
        let values = [
            0.0,
            -0.0,
            1.0,
            3.0,
            0.115_829_093_872_752_23,
            1.692_043_798_761_085e-8,
            2.0f64.powi(-1070),
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for x in values {
            for y in [None, Some(x)] {
                let text = serde_json::to_string(&Both { x, y }).unwrap();
                let back: Both = serde_json::from_str(&text).unwrap();
                assert_eq!(back.x.to_bits(), x.to_bits(), "{text}");
                assert_eq!(back.y.map(f64::to_bits), y.map(f64::to_bits), "{text}");
                assert_eq!(from_value(&to_value(x)).unwrap().to_bits(), x.to_bits());
            }
        }
        assert_eq!(to_value(f64::NAN), Value::from("nan"));
        assert_eq!(to_value(0.5), serde_json::json!(0.5));
        assert!(from_value(&Value::from("infinity")).is_err());
        assert!(from_value(&Value::Bool(true)).is_err());
        assert!(serde_json::from_str::<Both>(r#"{"x": "1", "y": null}"#).is_err());
    }
}
