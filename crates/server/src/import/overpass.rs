//! OSM elements, from the Overpass API's JSON answer (`[out:json]`: `elements` of nodes with
//! `lat`/`lon`, ways and relations with `center`, `bounds` or `geometry`, all with `tags`) and
//! from OSM XML ([`super::osm_xml`]).
//!
//! Position: a node's `lat`/`lon`; a way's or relation's `center` (`out center`), else the middle
//! of its `bounds` (`out bb`), else the centroid of its `geometry` (`out geom`), else the centroid
//! of its nodes found anywhere in the file (`out body; >; out skel;`, or a JOSM `.osm` file); a
//! relation without any of these: the mean of its members' positions. External id:
//! `osm:<type>/<id>`. Kind and other tags: the rules of [`super::geojson`]. Elements without tags
//! (the nodes of a way) are counted, not listed.

use super::geojson::{self, classify, points_centroid, Ids, Tags};
use super::{Location, Parsed, Problem};
use caremap_model::{FacilityKind, ValidationError};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One OSM element, however it was written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    /// `node`, `way` or `relation`.
    pub kind: String,
    pub id: Option<String>,
    /// `(lon, lat)`: a node's own, or a `center`, or the middle of `bounds`.
    pub position: Option<(f64, f64)>,
    /// `out geom`: the way's points, `(lon, lat)`.
    pub geometry: Vec<(f64, f64)>,
    /// A way's node ids.
    pub nodes: Vec<i64>,
    /// A relation's members: `node`/`way`/`relation` and id.
    pub members: Vec<(String, i64)>,
    pub tags: Map<String, Value>,
}

/// A facility whose position is known only once the whole file is read.
struct Pending {
    location: Location,
    element: Element,
    ids: Ids,
    kind: Result<FacilityKind, ValidationError>,
}

/// The elements read so far: node positions and way nodes, for ways and relations that name them.
#[derive(Default)]
pub(crate) struct Elements {
    nodes: HashMap<i64, (f64, f64)>,
    ways: HashMap<i64, Vec<i64>>,
    pending: Vec<Pending>,
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lat_lon(value: &Value) -> Option<(f64, f64)> {
    Some((number(value.get("lon"))?, number(value.get("lat"))?))
}

/// An element of an Overpass JSON answer.
pub(crate) fn from_json(value: &Value) -> Element {
    let text = |v: Option<&Value>| match v? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let bounds = value.get("bounds").and_then(|b| {
        let (min_lat, min_lon) = (number(b.get("minlat"))?, number(b.get("minlon"))?);
        let (max_lat, max_lon) = (number(b.get("maxlat"))?, number(b.get("maxlon"))?);
        Some(((min_lon + max_lon) / 2.0, (min_lat + max_lat) / 2.0))
    });
    Element {
        kind: text(value.get("type")).unwrap_or_default(),
        id: text(value.get("id")),
        position: lat_lon(value)
            .or_else(|| value.get("center").and_then(lat_lon))
            .or(bounds),
        geometry: value
            .get("geometry")
            .and_then(Value::as_array)
            .map(|points| points.iter().filter_map(lat_lon).collect())
            .unwrap_or_default(),
        nodes: value
            .get("nodes")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default(),
        members: value
            .get("members")
            .and_then(Value::as_array)
            .map(|members| {
                members
                    .iter()
                    .filter_map(|m| {
                        Some((m.get("type")?.as_str()?.to_owned(), m.get("ref")?.as_i64()?))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        tags: value
            .get("tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    }
}

impl Elements {
    /// Reads one element (`number` 1-based in file order, `line` for XML).
    pub(crate) fn push(
        &mut self,
        parsed: &mut Parsed,
        number: usize,
        line: Option<u64>,
        element: Element,
    ) {
        let numeric_id = element.id.as_deref().and_then(|id| id.parse::<i64>().ok());
        if let Some(id) = numeric_id {
            match element.kind.as_str() {
                "node" => {
                    if let Some(position) = element.position {
                        self.nodes.insert(id, position);
                    }
                }
                "way" if !element.nodes.is_empty() => {
                    self.ways.insert(id, element.nodes.clone());
                }
                _ => {}
            }
        }
        if element.tags.is_empty() {
            parsed.untagged += 1;
            return;
        }
        let primary = match (element.kind.as_str(), &element.id) {
            (kind @ ("node" | "way" | "relation"), Some(id)) => Some(format!("osm:{kind}/{id}")),
            _ => None,
        };
        let location = Location::Element {
            number,
            line,
            osm_id: primary.clone(),
        };
        let ids = Ids::single(primary, "id");
        let Some(kind) = geojson::kind_or_skip(parsed, classify(&Tags(&element.tags)), &location)
        else {
            return;
        };
        let position = if let Some(position) = element.position {
            Ok(position)
        } else if let Some((centre, _)) = points_centroid(&element.geometry) {
            Ok(centre)
        } else if !element.nodes.is_empty() || !element.members.is_empty() {
            self.pending.push(Pending {
                location,
                element,
                ids,
                kind,
            });
            return;
        } else {
            Err(Problem::NoPosition)
        };
        let result = geojson::parse_entry(&Tags(&element.tags), position, ids, kind, &location);
        parsed.push(location, result);
    }

    fn way_centre(&self, nodes: &[i64]) -> Option<(f64, f64)> {
        let points: Vec<(f64, f64)> = nodes
            .iter()
            .filter_map(|n| self.nodes.get(n).copied())
            .collect();
        points_centroid(&points).map(|(c, _)| c)
    }

    /// Resolves the ways and relations whose position comes from nodes read later.
    pub(crate) fn finish(&mut self, parsed: &mut Parsed) {
        for pending in std::mem::take(&mut self.pending) {
            let element = &pending.element;
            let centre = if element.kind == "way" {
                self.way_centre(&element.nodes)
            } else {
                let points: Vec<(f64, f64)> = element
                    .members
                    .iter()
                    .filter_map(|(kind, id)| match kind.as_str() {
                        "node" => self.nodes.get(id).copied(),
                        "way" => self.ways.get(id).and_then(|nodes| self.way_centre(nodes)),
                        _ => None,
                    })
                    .collect();
                let n = points.len() as f64;
                (!points.is_empty()).then(|| {
                    let (x, y) = points
                        .iter()
                        .fold((0.0, 0.0), |(x, y), (px, py)| (x + px, y + py));
                    (x / n, y / n)
                })
            };
            let result = geojson::parse_entry(
                &Tags(&element.tags),
                centre.ok_or(Problem::NoPosition),
                pending.ids,
                pending.kind,
                &pending.location,
            );
            parsed.push(pending.location, result);
        }
    }
}
