//! Nearest-first search over facilities, with an R*-tree (rstar).
//!
//! Positions are indexed as points on the unit sphere (x, y, z): the straight-line (chord)
//! distance between two such points grows with the great-circle distance, so the tree's
//! Euclidean nearest-neighbour order is exactly the haversine order, at any latitude and across
//! the antimeridian, which an index on raw degrees would get wrong.

use crate::geo::LatLon;
use rstar::primitives::GeomWithData;
use rstar::RTree;

type Entry<T> = GeomWithData<[f64; 3], (T, LatLon)>;

/// An index of items by position, answering "nearest first".
pub struct NearestIndex<T> {
    tree: RTree<Entry<T>>,
}

fn unit_vector(p: LatLon) -> [f64; 3] {
    let (lat, lon) = (p.lat().to_radians(), p.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

impl<T: Clone> NearestIndex<T> {
    /// Builds the index in one pass (bulk loading gives a better tree than inserting).
    pub fn new(items: impl IntoIterator<Item = (LatLon, T)>) -> Self {
        let entries = items
            .into_iter()
            .map(|(at, item)| GeomWithData::new(unit_vector(at), (item, at)))
            .collect();
        NearestIndex {
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Every item, nearest to `from` first, with its distance in metres. Lazy: take what you
    /// need, filter as you go.
    pub fn nearest(&self, from: LatLon) -> impl Iterator<Item = (&T, f64)> + '_ {
        self.tree
            .nearest_neighbor_iter(&unit_vector(from))
            .map(move |entry| (&entry.data.0, from.distance_m(entry.data.1)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    #[test]
    fn nearest_first_in_a_county() {
        let index = NearestIndex::new([
            (p(30.0436, 121.1572), "railway station"),
            (p(30.0700, 121.1500), "north"),
            (p(29.9000, 121.3000), "far south-east"),
        ]);
        let order: Vec<&str> = index.nearest(p(30.045, 121.156)).map(|(n, _)| *n).collect();
        assert_eq!(order, ["railway station", "north", "far south-east"]);
    }

    #[test]
    fn across_the_antimeridian() {
        let index = NearestIndex::new([(p(0.0, 179.9), "east"), (p(0.0, 170.0), "west")]);
        let (first, d) = index.nearest(p(0.0, -179.9)).next().unwrap();
        assert_eq!(*first, "east");
        assert!((d - 22_239.0).abs() < 50.0, "{d}");
    }

    proptest! {
        #[test]
        fn agrees_with_brute_force(
            points in prop::collection::vec((29.5f64..30.5, 120.5f64..121.8), 1..200),
            query in (29.0f64..31.0, 120.0f64..122.0),
            k in 1usize..15,
        ) {
            let items: Vec<(LatLon, usize)> =
                points.iter().enumerate().map(|(i, (lat, lon))| (p(*lat, *lon), i)).collect();
            let index = NearestIndex::new(items.clone());
            let from = p(query.0, query.1);
            let got: Vec<f64> = index.nearest(from).take(k).map(|(_, d)| d).collect();
            let mut want: Vec<f64> = items.iter().map(|(at, _)| from.distance_m(*at)).collect();
            want.sort_by(f64::total_cmp);
            want.truncate(k);
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                prop_assert!((g - w).abs() < 1e-3, "got {:?} want {:?}", got, want);
            }
        }
    }
}
