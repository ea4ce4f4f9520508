//! The demo registry: about 400 made-up facilities of all five kinds around 余姚市 (Yuyao,
//! Ningbo), for development, tests and demonstrations.
//!
//! Deterministic: a seeded ChaCha generator, so every run gives the same facilities with the same
//! ids (external ids `demo:<n>`), and seeding twice changes nothing. The townships and their
//! rough centres are real; every facility, name and phone number is invented, and every name
//! says so: “（演示）” in Chinese, “(demo)” in English. The PWA shows a demo banner while any
//! demo facility is in the registry (`GET /api/v1/config` → `demo: true`).
//!
//! [`reports`] adds plausible load reports for about 40 % of its clinics, so the map shows
//! crowding and shortages.
//!
//! [`synthetic`] makes registries of any size up to 200,000 over the whole of Zhejiang, for
//! tests and benchmarks of large registries (`demo --size N`).

use crate::store::{DeleteOutcome, Store, StoreError, UpsertOutcome};
use caremap_model::{Address, AreaName, Cursor, Field, Name, Note, PageLimit};
use caremap_model::{
    AdminArea, Capacity, ExternalId, Facility, FacilityId, FacilityKind, LatLon, Names,
    OpeningHours, Operational, Phone, Service, ValidationError,
};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashSet};

pub mod reports;
pub mod synthetic;

const SEED: u64 = 0x5959_2026;

/// A township (镇/乡) or subdistrict (街道) of Yuyao with its approximate centre.
struct Township {
    zh: &'static str,
    en: &'static str,
    lat: f64,
    lon: f64,
    /// Subdistricts of the city proper: communities (社区) instead of villages, fewer clinics.
    urban: bool,
}

#[rustfmt::skip]
const TOWNSHIPS: &[Township] = &[
    Township { zh: "阳明街道", en: "Yangming Subdistrict", lat: 30.046, lon: 121.150, urban: true },
    Township { zh: "梨洲街道", en: "Lizhou Subdistrict", lat: 30.028, lon: 121.132, urban: true },
    Township { zh: "凤山街道", en: "Fengshan Subdistrict", lat: 30.040, lon: 121.178, urban: true },
    Township { zh: "兰江街道", en: "Lanjiang Subdistrict", lat: 30.018, lon: 121.160, urban: true },
    Township { zh: "低塘街道", en: "Ditang Subdistrict", lat: 30.118, lon: 121.205, urban: false },
    Township { zh: "朗霞街道", en: "Langxia Subdistrict", lat: 30.128, lon: 121.140, urban: false },
    Township { zh: "临山镇", en: "Linshan Town", lat: 30.132, lon: 120.990, urban: false },
    Township { zh: "黄家埠镇", en: "Huangjiabu Town", lat: 30.118, lon: 120.925, urban: false },
    Township { zh: "小曹娥镇", en: "Xiaocao'e Town", lat: 30.205, lon: 121.185, urban: false },
    Township { zh: "泗门镇", en: "Simen Town", lat: 30.170, lon: 121.080, urban: false },
    Township { zh: "马渚镇", en: "Mazhu Town", lat: 30.080, lon: 121.060, urban: false },
    Township { zh: "牟山镇", en: "Moushan Town", lat: 30.070, lon: 120.985, urban: false },
    Township { zh: "丈亭镇", en: "Zhangting Town", lat: 30.000, lon: 121.280, urban: false },
    Township { zh: "三七市镇", en: "Sanqishi Town", lat: 30.020, lon: 121.330, urban: false },
    Township { zh: "河姆渡镇", en: "Hemudu Town", lat: 29.985, lon: 121.360, urban: false },
    Township { zh: "大隐镇", en: "Dayin Town", lat: 29.950, lon: 121.310, urban: false },
    Township { zh: "陆埠镇", en: "Lubu Town", lat: 29.950, lon: 121.215, urban: false },
    Township { zh: "梁弄镇", en: "Liangnong Town", lat: 29.925, lon: 121.050, urban: false },
    Township { zh: "大岚镇", en: "Dalan Town", lat: 29.805, lon: 121.195, urban: false },
    Township { zh: "四明山镇", en: "Siming Shan Town", lat: 29.775, lon: 121.070, urban: false },
    Township { zh: "鹿亭乡", en: "Luting Township", lat: 29.855, lon: 121.235, urban: false },
];

const HOSPITALS: &[(&str, &str, f64, f64, usize)] = &[
    (
        "余姚市人民医院",
        "Yuyao People's Hospital",
        30.0405,
        121.1565,
        0,
    ),
    (
        "余姚市中医医院",
        "Yuyao Hospital of Traditional Chinese Medicine",
        30.0478,
        121.1448,
        0,
    ),
    (
        "余姚市第二人民医院",
        "Yuyao Second People's Hospital",
        30.1352,
        121.1455,
        5,
    ),
    (
        "余姚市第三人民医院",
        "Yuyao Third People's Hospital",
        29.9288,
        121.0542,
        17,
    ),
    (
        "余姚市妇幼保健院",
        "Yuyao Maternal and Child Health Hospital",
        30.0352,
        121.1702,
        2,
    ),
];

const SURNAMES: &[&str] = &[
    "陈", "王", "张", "周", "胡", "徐", "孙", "朱", "马", "黄", "施", "毛", "谢", "潘", "邵", "叶",
    "杨", "蒋", "沈", "鲁", "孔", "褚", "严", "钱", "谷", "闻", "岑", "史", "宋", "魏",
];
const PLACE_WORDS: &[&str] = &[
    "东", "西", "南", "北", "新", "横", "上", "下", "前", "后", "石", "竹", "梅", "桃", "柏", "湖",
];
const VILLAGE_SUFFIXES: &[&str] = &[
    "家村", "山村", "桥村", "岙村", "浦村", "塘村", "湾村", "溪村",
];
const COMMUNITY_SUFFIXES: &[&str] = &["社区", "苑社区", "里社区", "园社区"];

const REDUCED_REASONS: &[&str] = &[
    "医生外出支援发热门诊，仅上午开放",
    "退烧药紧张，优先接诊老人和儿童",
    "人手不足，暂停上门服务",
];
const CLOSED_REASONS: &[&str] = &["医生感染居家休息", "房屋维修", "医生外出培训"];

/// Builds the demo registry. Every facility passes the model's validation; an error here is a
/// bug in this file, reported rather than hidden.
pub fn registry() -> Result<Vec<(FacilityId, Facility)>, ValidationError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut builder = Builder { out: Vec::new() };

    for (zh, en, lat, lon, township) in HOSPITALS {
        let t = &TOWNSHIPS[*township];
        let paediatric = zh.contains("妇幼") || rng.random_bool(0.5);
        let mut services = BTreeSet::from([
            Service::Open24h,
            Service::AntigenTesting,
            Service::WheelchairAccess,
        ]);
        if paediatric {
            services.insert(Service::PaediatricFever);
        }
        builder.push(Draft {
            kind: FacilityKind::FeverClinic,
            zh: format!("{zh}发热门诊"),
            en: format!("{en} fever clinic"),
            lat: *lat,
            lon: *lon,
            township: t,
            village: None,
            address: format!(
                "余姚市{}{}",
                t.zh,
                pick(&mut rng, &["城东路", "新建路", "北滨江路", "南雷南路"])
            ),
            hours: "24/7",
            services,
            capacity: Capacity {
                doctors: Some(rng.random_range(8..=20)),
                beds: Some(rng.random_range(20..=60)),
                daily_capacity: Some(rng.random_range(300..=900)),
            },
            operational: Operational::Open,
            mobile: false,
        })?;
    }

    for t in TOWNSHIPS {
        let centre_name = if t.urban {
            format!("{}社区卫生服务中心", t.zh)
        } else {
            format!("{}卫生院", t.zh.trim_end_matches("街道"))
        };
        let centre_en = if t.urban {
            format!(
                "{} Community Health Service Centre",
                t.en.trim_end_matches(" Subdistrict")
            )
        } else {
            format!("{} Health Centre", strip_admin_suffix(t.en))
        };
        let (lat, lon) = jitter(&mut rng, t, 0.004);
        builder.push(Draft {
            kind: FacilityKind::TownshipHealthCenter,
            zh: centre_name.clone(),
            en: centre_en.clone(),
            lat,
            lon,
            township: t,
            village: None,
            address: format!("余姚市{}人民路{}号", t.zh, rng.random_range(1..=200)),
            hours: "Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-11:30",
            services: BTreeSet::from([
                Service::AntigenTesting,
                Service::ElderlyVaccination,
                Service::WheelchairAccess,
            ]),
            capacity: Capacity {
                doctors: Some(rng.random_range(6..=25)),
                beds: Some(rng.random_range(0..=40)),
                daily_capacity: Some(rng.random_range(150..=500)),
            },
            operational: operational(&mut rng, 0.08, 0.0),
            mobile: false,
        })?;

        // A fever station in most townships: in a tent or hall beside the health centre.
        if !t.urban || t.zh == "阳明街道" {
            let (lat, lon) = jitter(&mut rng, t, 0.006);
            builder.push(Draft {
                kind: FacilityKind::FeverStation,
                zh: format!("{}发热诊疗站", t.zh),
                en: format!("{} fever station", strip_admin_suffix(t.en)),
                lat,
                lon,
                township: t,
                village: None,
                address: format!("余姚市{}{}旁", t.zh, centre_name),
                hours: pick(
                    &mut rng,
                    &[
                        "Mo-Su 08:00-20:00",
                        "Mo-Su 08:00-17:00",
                        "Mo-Su 07:30-21:00",
                    ],
                ),
                services: BTreeSet::from([Service::AntigenTesting, Service::PaediatricFever]),
                capacity: Capacity {
                    doctors: Some(rng.random_range(2..=5)),
                    beds: None,
                    daily_capacity: Some(rng.random_range(80..=200)),
                },
                operational: operational(&mut rng, 0.1, 0.05),
                mobile: false,
            })?;
        }

        // Vaccination points: one at the health centre, one or two in the villages, some mobile.
        let vaccination_points = if t.urban { 1 } else { rng.random_range(1..=3) };
        for i in 0..vaccination_points {
            let mobile = i > 0 && rng.random_bool(0.6);
            let (lat, lon) = jitter(&mut rng, t, if i == 0 { 0.004 } else { 0.03 });
            let (zh, en, hours) = if mobile {
                (
                    format!("{}流动接种点{}号", t.zh, i),
                    format!("{} mobile vaccination team {}", strip_admin_suffix(t.en), i),
                    pick(
                        &mut rng,
                        &[
                            "Tu,Th 08:30-11:30",
                            "We,Sa 08:30-11:30,13:30-16:00",
                            "Mo,We,Fr 09:00-11:30",
                        ],
                    ),
                )
            } else if i == 0 {
                (
                    format!("{}预防接种门诊", centre_name),
                    format!("{} vaccination clinic", centre_en),
                    "Mo-Fr 08:00-11:30,13:30-16:30; Sa 08:00-11:30",
                )
            } else {
                (
                    format!("{}临时接种点{}号", t.zh, i),
                    format!(
                        "{} temporary vaccination point {}",
                        strip_admin_suffix(t.en),
                        i
                    ),
                    "Mo-Fr 08:30-11:30,13:30-16:00",
                )
            };
            builder.push(Draft {
                kind: FacilityKind::VaccinationPoint,
                zh,
                en,
                lat,
                lon,
                township: t,
                village: None,
                address: format!("余姚市{}", t.zh),
                hours,
                services: BTreeSet::from([Service::ElderlyVaccination]),
                capacity: Capacity {
                    doctors: Some(rng.random_range(1..=4)),
                    beds: None,
                    daily_capacity: Some(rng.random_range(60..=240)),
                },
                operational: operational(&mut rng, 0.05, 0.03),
                mobile,
            })?;
        }

        // Village clinics (村卫生室) or, in the city, community health stations.
        let clinics = if t.urban {
            rng.random_range(7..=10)
        } else {
            rng.random_range(15..=18)
        };
        let mut used = HashSet::new();
        for n in 1..=clinics {
            let village = loop {
                let name = if t.urban {
                    format!(
                        "{}{}",
                        pick(&mut rng, PLACE_WORDS),
                        pick(&mut rng, COMMUNITY_SUFFIXES)
                    )
                } else if rng.random_bool(0.5) {
                    format!(
                        "{}{}",
                        pick(&mut rng, SURNAMES),
                        pick(&mut rng, VILLAGE_SUFFIXES)
                    )
                } else {
                    format!(
                        "{}{}",
                        pick(&mut rng, PLACE_WORDS),
                        pick(&mut rng, VILLAGE_SUFFIXES)
                    )
                };
                if used.insert(name.clone()) {
                    break name;
                }
            };
            let (lat, lon) = jitter(&mut rng, t, if t.urban { 0.012 } else { 0.035 });
            let mut services = BTreeSet::new();
            if rng.random_bool(0.6) {
                services.insert(Service::HomeVisits);
            }
            if rng.random_bool(0.4) {
                services.insert(Service::ElderlyVaccination);
            }
            if rng.random_bool(0.5) {
                services.insert(Service::AntigenTesting);
            }
            let station = if t.urban {
                "卫生服务站"
            } else {
                "卫生室"
            };
            builder.push(Draft {
                kind: FacilityKind::VillageClinic,
                zh: format!("{}{}{}", t.zh, village, station),
                en: format!(
                    "{} {} no. {}",
                    strip_admin_suffix(t.en),
                    if t.urban {
                        "community health station"
                    } else {
                        "village clinic"
                    },
                    n
                ),
                lat,
                lon,
                township: t,
                village: Some(village.clone()),
                address: format!("余姚市{}{}", t.zh, village),
                hours: pick(
                    &mut rng,
                    &[
                        "Mo-Sa 07:30-11:30,13:30-17:00",
                        "Mo-Su 08:00-11:00,14:00-17:00",
                        "Mo-Fr 08:00-11:30,13:30-16:30; Sa 08:00-11:30",
                    ],
                ),
                services,
                capacity: Capacity {
                    doctors: Some(rng.random_range(1..=3)),
                    beds: None,
                    daily_capacity: Some(rng.random_range(20..=80)),
                },
                operational: operational(&mut rng, 0.06, 0.03),
                mobile: false,
            })?;
        }
    }
    Ok(builder.out)
}

fn strip_admin_suffix(en: &str) -> &str {
    en.trim_end_matches(" Subdistrict")
        .trim_end_matches(" Township")
        .trim_end_matches(" Town")
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn jitter(rng: &mut ChaCha8Rng, t: &Township, spread: f64) -> (f64, f64) {
    (
        t.lat + rng.random_range(-spread..=spread),
        t.lon + rng.random_range(-spread..=spread) * 1.15,
    )
}

fn operational(rng: &mut ChaCha8Rng, reduced: f64, closed: f64) -> Operational {
    let roll: f64 = rng.random();
    if roll < closed {
        Operational::Closed {
            reason: Note::parse_for(pick(rng, CLOSED_REASONS), Field::Note).ok(),
            reopens_on: NaiveDate::from_ymd_opt(2026, 12, rng.random_range(5..=20)),
        }
    } else if roll < closed + reduced {
        Operational::Reduced {
            reason: Note::parse_for(pick(rng, REDUCED_REASONS), Field::Note).ok(),
        }
    } else {
        Operational::Open
    }
}

struct Draft<'a> {
    kind: FacilityKind,
    zh: String,
    en: String,
    lat: f64,
    lon: f64,
    township: &'a Township,
    village: Option<String>,
    address: String,
    hours: &'static str,
    services: BTreeSet<Service>,
    capacity: Capacity,
    operational: Operational,
    mobile: bool,
}

struct Builder {
    out: Vec<(FacilityId, Facility)>,
}

impl Builder {
    fn push(&mut self, d: Draft<'_>) -> Result<(), ValidationError> {
        let n = self.out.len() + 1;
        let external = ExternalId::parse(&format!("demo:{n}"))?;
        let phone = Phone::parse(&format!("0574-6000{n:04}"))?;
        let facility = Facility {
            kind: d.kind,
            name: Names {
                zh: Name::parse_for(&format!("{}（演示）", d.zh), Field::Name)?,
                en: Some(Name::parse_for(&format!("{} (demo)", d.en), Field::NameEn)?),
            },
            location: LatLon::new(d.lat, d.lon)?,
            address: Some(Address::parse_for(&d.address, Field::Address)?),
            area: AdminArea {
                township: Some(AreaName::parse_for(d.township.zh, Field::Township)?),
                village: d
                    .village
                    .as_deref()
                    .map(|v| AreaName::parse_for(v, Field::Village))
                    .transpose()?,
            },
            phone: Some(phone),
            opening_hours: Some(OpeningHours::parse(d.hours)?),
            services: d.services,
            capacity: d.capacity.validate()?,
            operational: d.operational,
            mobile: d.mobile,
            external_ids: BTreeSet::from([external.clone()]),
        };
        self.out
            .push((FacilityId::from_external(&external), facility));
        Ok(())
    }
}

/// What seeding did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Facilities outside the demo registry that `replace` deleted.
    pub deleted: usize,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the demo registry is invalid (a bug): {0}")]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No device token could be made for the demo reports.
    #[error("cannot make the demo account's token: {0}")]
    Random(String),
}

/// Writes the demo registry. With `replace`, every facility that is not part of it is deleted
/// first (tombstones, so phones learn of it) and edited demo facilities are reset.
pub async fn seed(store: &dyn Store, replace: bool) -> Result<SeedSummary, SeedError> {
    let facilities = registry()?;
    let mut summary = SeedSummary::default();
    if replace {
        let keep: HashSet<FacilityId> = facilities.iter().map(|(id, _)| *id).collect();
        let others: Vec<FacilityId> = live_ids(store)
            .await?
            .into_iter()
            .filter(|id| !keep.contains(id))
            .collect();
        summary.tally_deletions(store.delete_batch(&others).await?);
    }
    summary.tally(store.upsert_batch(&facilities).await?);
    Ok(summary)
}

/// Facilities [`seed_synthetic`] writes per transaction: few transactions, bounded memory.
pub const SYNTHETIC_CHUNK: usize = 5_000;

/// Writes the synthetic registry of `size` facilities ([`synthetic`]) in transactions of
/// [`SYNTHETIC_CHUNK`]. With `replace`, every facility that is not part of it (the small demo
/// registry too) is deleted afterwards and edited ones are reset. Seeding the same size again
/// changes nothing; a larger size adds the difference.
pub async fn seed_synthetic(
    store: &dyn Store,
    size: usize,
    replace: bool,
) -> Result<SeedSummary, SeedError> {
    let before = if replace {
        live_ids(store).await?
    } else {
        Vec::new()
    };
    let mut summary = SeedSummary::default();
    let mut written = HashSet::new();
    let mut generator = synthetic::registry(size)?;
    loop {
        let chunk = generator
            .by_ref()
            .take(SYNTHETIC_CHUNK)
            .collect::<Result<Vec<_>, _>>()?;
        if chunk.is_empty() {
            break;
        }
        if replace {
            written.extend(chunk.iter().map(|(id, _)| *id));
        }
        summary.tally(store.upsert_batch(&chunk).await?);
    }
    let others: Vec<FacilityId> = before
        .into_iter()
        .filter(|id| !written.contains(id))
        .collect();
    summary.tally_deletions(store.delete_batch(&others).await?);
    Ok(summary)
}

/// The ids of every live facility, read from the feed without parsing the bodies (cheap for
/// 200,000 facilities, unlike [`Store::list`]).
async fn live_ids(store: &dyn Store) -> Result<Vec<FacilityId>, StoreError> {
    let mut ids = Vec::new();
    let mut since = Cursor::START;
    loop {
        let page = store
            .registry_page_raw(since, PageLimit::clamped(Some(PageLimit::MAX)))
            .await?;
        ids.extend(page.items.iter().filter(|r| !r.deleted).map(|r| r.id));
        since = page.cursor;
        if !page.has_more {
            return Ok(ids);
        }
    }
}

impl SeedSummary {
    fn tally(&mut self, outcomes: Vec<UpsertOutcome>) {
        for outcome in outcomes {
            match outcome {
                UpsertOutcome::Added => self.added += 1,
                UpsertOutcome::Updated => self.updated += 1,
                UpsertOutcome::Unchanged => self.unchanged += 1,
            }
        }
    }

    fn tally_deletions(&mut self, outcomes: Vec<DeleteOutcome>) {
        self.deleted += outcomes
            .iter()
            .filter(|o| matches!(o, DeleteOutcome::Deleted { .. }))
            .count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_valid_and_complete() {
        let a = registry().expect("demo registry is valid");
        let b = registry().expect("demo registry is valid");
        assert_eq!(a, b);
        assert!((350..=450).contains(&a.len()), "{}", a.len());
        for kind in FacilityKind::ALL {
            assert!(a.iter().any(|(_, f)| f.kind == *kind), "{kind}");
        }
    }
}
