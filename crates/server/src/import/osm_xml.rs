//! OpenStreetMap XML (`.osm`: the OSM API, JOSM, Overpass `[out:xml]`), read streaming with
//! quick-xml: `<node id lat lon>`, `<way id>` with `<nd ref>` (and, from Overpass, `<center>`,
//! `<bounds>` or `<nd ref lat lon>`), `<relation id>` with `<member type ref>`, all with
//! `<tag k v>`. Positions, kinds and ids as for the Overpass API's JSON ([`super::overpass`]);
//! problems are placed by the line the element starts on and its id.

use super::overpass::{Element, Elements};
use super::{FileError, Parsed};
use quick_xml::events::{BytesStart, Event};
use serde_json::Value;
use std::io::BufRead;

/// Counts the lines of what the XML reader has consumed.
struct Lines<R> {
    inner: R,
    newlines: u64,
}

impl<R: BufRead> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            self.newlines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.inner.consume(amt);
    }
}

fn attribute(tag: &BytesStart<'_>, name: &str) -> Option<String> {
    tag.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_owned())
        })
}

fn coordinate(tag: &BytesStart<'_>, name: &str) -> Option<f64> {
    attribute(tag, name)?.parse().ok()
}

/// Parses OSM XML from a stream.
pub(crate) fn parse<R: BufRead>(reader: R) -> Result<Parsed, FileError> {
    let mut xml = quick_xml::Reader::from_reader(Lines {
        inner: reader,
        newlines: 0,
    });
    let mut parsed = Parsed::default();
    let mut elements = Elements::default();
    let mut buf = Vec::new();
    let mut root_seen = false;
    let mut depth = 0usize;
    let mut number = 0usize;
    // The element being read and the line it started on.
    let mut current: Option<(Element, u64)> = None;
    let line = |xml: &quick_xml::Reader<Lines<R>>| xml.get_ref().newlines + 1;
    loop {
        let start_line = line(&xml);
        let event = xml.read_event_into(&mut buf);
        let event = match event {
            Ok(event) => event,
            // Every syntax error but one is the input ending inside a tag or a comment.
            Err(quick_xml::Error::Syntax(err))
                if !matches!(err, quick_xml::errors::SyntaxError::InvalidBangMarkup) =>
            {
                return Err(FileError::Truncated {
                    line: line(&xml) as usize,
                    column: 0,
                });
            }
            Err(err) => {
                return Err(FileError::NotOsmXml {
                    line: line(&xml),
                    detail: err.to_string(),
                });
            }
        };
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let empty = matches!(event, Event::Empty(_));
                let name = tag.name();
                let name = name.as_ref();
                if !root_seen {
                    if name != "osm" && name != "osmChange" {
                        return Err(FileError::NotOsmXml {
                            line: start_line,
                            detail: format!("the root element is <{}>, not <osm>", name),
                        });
                    }
                    root_seen = true;
                    if !empty {
                        depth += 1;
                    }
                    continue;
                }
                match name {
                    "node" | "way" | "relation" if current.is_none() => {
                        number += 1;
                        let element = Element {
                            kind: name.to_owned(),
                            id: attribute(tag, "id"),
                            position: coordinate(tag, "lon").zip(coordinate(tag, "lat")),
                            ..Element::default()
                        };
                        if empty {
                            elements.push(&mut parsed, number, Some(start_line), element);
                        } else {
                            current = Some((element, start_line));
                        }
                    }
                    "tag" => {
                        if let (Some((element, _)), Some(k)) =
                            (current.as_mut(), attribute(tag, "k"))
                        {
                            let v = attribute(tag, "v").unwrap_or_default();
                            element.tags.insert(k, Value::String(v));
                        }
                    }
                    "nd" => {
                        if let Some((element, _)) = current.as_mut() {
                            if let Some(point) = coordinate(tag, "lon").zip(coordinate(tag, "lat"))
                            {
                                element.geometry.push(point);
                            }
                            if let Some(id) = attribute(tag, "ref").and_then(|r| r.parse().ok()) {
                                element.nodes.push(id);
                            }
                        }
                    }
                    "member" => {
                        if let Some((element, _)) = current.as_mut() {
                            if let (Some(kind), Some(id)) = (
                                attribute(tag, "type"),
                                attribute(tag, "ref").and_then(|r| r.parse().ok()),
                            ) {
                                element.members.push((kind, id));
                            }
                        }
                    }
                    "center" => {
                        if let Some((element, _)) = current.as_mut() {
                            element.position = coordinate(tag, "lon").zip(coordinate(tag, "lat"));
                        }
                    }
                    "bounds" => {
                        if let Some((element, _)) = current.as_mut() {
                            let lat = coordinate(tag, "minlat").zip(coordinate(tag, "maxlat"));
                            let lon = coordinate(tag, "minlon").zip(coordinate(tag, "maxlon"));
                            if let (Some((a, b)), Some((c, d)), None) = (lat, lon, element.position)
                            {
                                element.position = Some(((c + d) / 2.0, (a + b) / 2.0));
                            }
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(ref tag) => {
                depth = depth.saturating_sub(1);
                let name = tag.name();
                if matches!(name.as_ref(), "node" | "way" | "relation") {
                    if let Some((element, start)) = current.take() {
                        elements.push(&mut parsed, number, Some(start), element);
                    }
                }
            }
            Event::Eof => {
                if !root_seen {
                    return Err(FileError::NotOsmXml {
                        line: start_line,
                        detail: "no <osm> element".to_owned(),
                    });
                }
                if depth > 0 {
                    return Err(FileError::Truncated {
                        line: start_line as usize,
                        column: 0,
                    });
                }
                break;
            }
            _ => {}
        }
        buf.clear();
    }
    elements.finish(&mut parsed);
    Ok(parsed)
}
