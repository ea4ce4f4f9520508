//! Streaming JSON: a GeoJSON FeatureCollection (`features`), an Overpass API answer
//! (`elements`) or a healthsites.io API list (a top-level array of `{attributes, centroid,
//! osm_id, osm_type}`), read one feature or element at a time. Only one feature is held as a
//! tree at any moment, so a 50 MB file needs little more memory than the facilities it holds.

use super::{geojson, overpass, FileError, Parsed};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::BufRead;

/// What the items of an array are.
#[derive(Clone, Copy)]
enum Items {
    Features,
    Elements,
    /// healthsites.io API records: features without `type`/`properties` wrapping.
    Records,
}

struct Reader<'a> {
    parsed: &'a mut Parsed,
    osm: &'a mut overpass::Elements,
}

impl Reader<'_> {
    fn item(&mut self, items: Items, number: usize, value: &Value) {
        match items {
            Items::Features => geojson::feature(self.parsed, number, value),
            Items::Elements => {
                let element = overpass::from_json(value);
                self.osm.push(self.parsed, number, None, element);
            }
            Items::Records => {
                // `{attributes, centroid, osm_id, osm_type}` is a feature's properties.
                let feature = serde_json::json!({ "properties": value });
                geojson::feature(self.parsed, number, &feature);
            }
        }
    }
}

/// Parses any of the JSON shapes from a stream.
pub(crate) fn parse<R: BufRead>(reader: R) -> Result<Parsed, FileError> {
    let mut reader = Utf8Check::new(reader);
    let mut parsed = Parsed::default();
    let mut osm = overpass::Elements::default();
    let shape = {
        let mut de = serde_json::Deserializer::from_reader(&mut reader);
        let shape = Root(Reader {
            parsed: &mut parsed,
            osm: &mut osm,
        })
        .deserialize(&mut de)
        .and_then(|shape| de.end().map(|()| shape));
        drop(de);
        match shape {
            Ok(shape) => shape,
            Err(err) if reader.bad_utf8 || err.to_string().contains("UTF-8") => {
                return Err(FileError::NotUtf8);
            }
            Err(err) if err.is_io() => {
                return Err(FileError::Io(std::io::Error::other(err.to_string())));
            }
            Err(err) if err.is_eof() => {
                return Err(FileError::Truncated {
                    line: err.line(),
                    column: err.column(),
                });
            }
            Err(err) => {
                let detail = err.to_string();
                let detail = detail
                    .rsplit_once(" at line ")
                    .map_or(detail.as_str(), |(d, _)| d)
                    .to_owned();
                return Err(FileError::NotJson {
                    line: err.line(),
                    column: err.column(),
                    detail,
                });
            }
        }
    };
    match shape {
        Shape::Features | Shape::Records => {}
        Shape::Elements => osm.finish(&mut parsed),
        Shape::Other => return Err(FileError::NotFeatureCollection),
    }
    Ok(parsed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Features,
    Elements,
    Records,
    Other,
}

struct Root<'a>(Reader<'a>);

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Shape, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection or an Overpass API answer")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Shape, A::Error> {
        let mut shape = Shape::Other;
        let mut kind: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => kind = map.next_value::<Value>()?.as_str().map(str::to_owned),
                "features" if shape == Shape::Other => {
                    map.next_value_seed(Array {
                        reader: &mut self.0,
                        items: Items::Features,
                    })?;
                    shape = Shape::Features;
                }
                "elements" if shape == Shape::Other => {
                    map.next_value_seed(Array {
                        reader: &mut self.0,
                        items: Items::Elements,
                    })?;
                    shape = Shape::Elements;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // A `features` array under another `type` is not a FeatureCollection.
        if shape == Shape::Features && kind.as_deref().is_some_and(|k| k != "FeatureCollection") {
            return Ok(Shape::Other);
        }
        Ok(shape)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<Shape, A::Error> {
        Array {
            reader: &mut self.0,
            items: Items::Records,
        }
        .visit_seq(seq)?;
        Ok(Shape::Records)
    }
}

struct Array<'r, 'a> {
    reader: &'r mut Reader<'a>,
    items: Items,
}

impl<'de> DeserializeSeed<'de> for Array<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Array<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut number = 0;
        while let Some(value) = seq.next_element::<Value>()? {
            number += 1;
            self.reader.item(self.items, number, &value);
        }
        Ok(())
    }
}

/// Strips a byte-order mark and notes invalid UTF-8 (serde_json's reader reports it as a syntax
/// error at some position; the operator needs "save as UTF-8").
struct Utf8Check<R> {
    inner: R,
    started: bool,
    bad_utf8: bool,
    /// How much of the inner reader's current buffer has been checked (serde_json reads a
    /// byte at a time: each buffer is checked once, not once a byte).
    checked: usize,
}

impl<R: BufRead> Utf8Check<R> {
    fn new(inner: R) -> Self {
        Utf8Check {
            inner,
            started: false,
            bad_utf8: false,
            checked: 0,
        }
    }
}

impl<R: BufRead> std::io::Read for Utf8Check<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Utf8Check<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if !self.started {
            self.started = true;
            let head = self.inner.fill_buf()?;
            if head.starts_with(b"\xEF\xBB\xBF") {
                self.inner.consume(3);
            }
        }
        let buf = self.inner.fill_buf()?;
        // A chunk may end inside a character: only a byte that can never be UTF-8 counts.
        let unchecked = buf.get(self.checked..).unwrap_or_default();
        if unchecked
            .iter()
            .any(|b| matches!(b, 0xC0 | 0xC1 | 0xF5..=0xFF))
        {
            self.bad_utf8 = true;
        }
        self.checked = buf.len();
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        self.checked = self.checked.saturating_sub(amt);
        self.inner.consume(amt);
    }
}
