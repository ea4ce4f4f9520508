//! Marker icons: a Leaflet `divIcon` per facility kind and load badge, drawn entirely by CSS
//! classes (`style/main.css`), so shape and colour both tell the kind, a badge in the corner
//! tells the crowding (greyed and dashed when stale), and no inline style is needed.

use crate::crowding::Badge;
use caremap_model::FacilityKind;
use js_sys::{Array, Function, Object, Reflect};
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};

/// The classes of a marker icon on the map: `marker marker-kind-<wire name>`, then the badge's
/// `crowd-<level>` and `is-stale`.
pub fn marker_class(kind: FacilityKind, badge: Badge) -> String {
    format!("marker marker-kind-{}{}", kind.as_str(), badge.classes())
}

/// The classes of the same shape in the legend and the list (not counted as map markers).
pub fn swatch_class(kind: FacilityKind) -> String {
    format!("swatch swatch-kind-{}", kind.as_str())
}

/// Icon size in CSS pixels: fever clinics biggest, village clinics smallest. The touch target
/// is enlarged by CSS padding, not by the drawn shape.
fn icon_size(kind: FacilityKind) -> (u32, u32) {
    match kind {
        FacilityKind::FeverClinic => (26, 26),
        FacilityKind::FeverStation => (24, 24),
        FacilityKind::TownshipHealthCenter => (22, 22),
        FacilityKind::VillageClinic => (16, 16),
        FacilityKind::VaccinationPoint => (24, 24),
    }
}

/// Stacking order where markers overlap: the kinds a feverish resident looks for first stay on
/// top of the many village clinics.
pub fn z_index_offset(kind: FacilityKind) -> f64 {
    match kind {
        FacilityKind::FeverClinic => 1000.0,
        FacilityKind::FeverStation => 800.0,
        FacilityKind::TownshipHealthCenter => 600.0,
        FacilityKind::VaccinationPoint => 400.0,
        FacilityKind::VillageClinic => 0.0,
    }
}

/// `L.divIcon({className, html: "", iconSize})`. The `leaflet` crate's `DivIcon::new` calls
/// `new L.Icon` (a binding slip in 0.5), which throws without an image URL, so the factory is
/// called directly.
pub fn div_icon(kind: FacilityKind, badge: Badge) -> Result<leaflet::Icon, JsValue> {
    let leaflet = Reflect::get(&js_sys::global(), &"L".into())?;
    let factory: Function = Reflect::get(&leaflet, &"divIcon".into())?.dyn_into()?;
    let options = Object::new();
    Reflect::set(
        &options,
        &"className".into(),
        &marker_class(kind, badge).into(),
    )?;
    Reflect::set(&options, &"html".into(), &"".into())?;
    let (width, height) = icon_size(kind);
    let size = Array::of2(&width.into(), &height.into());
    Reflect::set(&options, &"iconSize".into(), &size)?;
    Ok(factory.call1(&leaflet, &options)?.unchecked_into())
}

/// Icons made once per kind and badge (at most 5 × 5 × 2) and shared by every marker that
/// looks the same: a Leaflet icon is only options, each marker draws its own element from it.
#[derive(Default)]
pub struct IconCache(HashMap<(FacilityKind, Badge), leaflet::Icon>);

impl IconCache {
    pub fn get(&mut self, kind: FacilityKind, badge: Badge) -> Result<leaflet::Icon, JsValue> {
        if let Some(icon) = self.0.get(&(kind, badge)) {
            return Ok(icon.clone());
        }
        let icon = div_icon(kind, badge)?;
        self.0.insert((kind, badge), icon.clone());
        Ok(icon)
    }
}

/// The "you are here" marker: a dot in a ring, drawn by the `position-marker` class.
pub fn position_icon() -> Result<leaflet::Icon, JsValue> {
    let leaflet = Reflect::get(&js_sys::global(), &"L".into())?;
    let factory: Function = Reflect::get(&leaflet, &"divIcon".into())?.dyn_into()?;
    let options = Object::new();
    Reflect::set(&options, &"className".into(), &"position-marker".into())?;
    Reflect::set(&options, &"html".into(), &"".into())?;
    let size = Array::of2(&22.into(), &22.into());
    Reflect::set(&options, &"iconSize".into(), &size)?;
    Ok(factory.call1(&leaflet, &options)?.unchecked_into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn classes_carry_the_wire_name() {
        assert_eq!(
            marker_class(FacilityKind::FeverClinic, Badge::default()),
            "marker marker-kind-fever_clinic"
        );
        let badge = Badge {
            crowding: Some(caremap_model::Crowding::Medium),
            stale: true,
        };
        assert_eq!(
            marker_class(FacilityKind::VillageClinic, badge),
            "marker marker-kind-village_clinic crowd-medium is-stale"
        );
        assert_eq!(
            swatch_class(FacilityKind::VaccinationPoint),
            "swatch swatch-kind-vaccination_point"
        );
    }
}
