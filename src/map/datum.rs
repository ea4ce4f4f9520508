//! Positions handed to Leaflet and read back from it, in the datum of the tiles under them.
//!
//! The registry, distances and the nearest search are WGS-84; Amap's tiles are GCJ-02
//! (`caremap_model::datum`). Every position the map draws (a facility's marker, and so its
//! cluster; the point searched from, be it the resident's position, a tapped point or a
//! township's centre) goes through [`MapDatum::to_map`], and a tap comes back through
//! [`MapDatum::wgs84_of`]. The one datum of a map is shared by its handlers, which read it when
//! they run (a new configuration can change it).

use caremap_model::{Datum, LatLon};
use leaflet::LatLng;
use std::cell::Cell;
use std::rc::Rc;

/// The datum the map draws in now.
#[derive(Clone, Default)]
pub(super) struct MapDatum(Rc<Cell<Datum>>);

impl MapDatum {
    pub fn get(&self) -> Datum {
        self.0.get()
    }

    /// Changes the datum; true when it changed (what is drawn must then be drawn again).
    pub fn set(&self, datum: Datum) -> bool {
        self.0.replace(datum) != datum
    }

    /// Where a WGS-84 position is drawn on this map.
    pub fn to_map(&self, at: LatLon) -> LatLng {
        let (lat, lon) = self.get().from_wgs84(at);
        LatLng::new(lat, lon)
    }

    /// The WGS-84 position of a point on this map (a tap), its longitude brought into
    /// [-180, 180) first (Leaflet lets the world repeat east and west).
    pub fn wgs84_of(&self, at: &LatLng) -> Option<LatLon> {
        let lon = (at.lng() + 180.0).rem_euclid(360.0) - 180.0;
        self.get().to_wgs84(at.lat(), lon)
    }
}
