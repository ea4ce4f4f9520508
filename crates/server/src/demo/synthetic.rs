//! The large synthetic demo registry (`caremap-server demo --size N`): any number of made-up
//! facilities (up to [`MAX_SIZE`]) spread over the counties of Zhejiang, for tests and
//! benchmarks of large registries.
//!
//! The counties, their prefecture-level cities, area codes and rough centres are real; every
//! township, village, facility, address and phone number is invented (names are composed from
//! lists of syllables common in Zhejiang's place names), and every name says it is demo data, as
//! in the small demo registry.
//!
//! The registry is generated township by township: a health centre, often a fever station, one to
//! three vaccination points, sometimes a fever clinic (a county hospital or a central health
//! centre) and a dozen village clinics (community health stations in subdistricts). That gives
//! about three quarters village clinics, an eighth vaccination points, a fourteenth health centres
//! and a few percent fever stations and fever clinics. As in real registries, village clinics
//! have no English name; every other facility has one (its pinyin), ending in “(demo)”.
//!
//! Deterministic and prefix-stable: facility n is the same whatever N is (the generator never
//! looks at N except to stop), so `--size 1000` then `--size 2000` adds the second thousand and
//! leaves the first unchanged. External ids are `demo:zj/<n>`, distinct from the small registry's
//! `demo:<n>`.

use super::{operational, pick};
use caremap_model::{
    Address, AdminArea, AreaName, Capacity, ExternalId, Facility, FacilityId, FacilityKind, Field,
    LatLon, Name, Names, OpeningHours, Phone, Service, ValidationError,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashSet, VecDeque};

/// The largest registry `demo --size` makes.
pub const MAX_SIZE: usize = 200_000;

/// The source of the external ids: `demo:zj/<n>`, under the demo prefix of the store.
pub const EXTERNAL_ID_PREFIX: &str = "demo:zj/";

const SEED: u64 = 0x5a4a_2026;

/// A county-level division of Zhejiang: a district (区), county-level city (市) or county (县).
struct County {
    zh: &'static str,
    en: &'static str,
    /// Telephone area code of its prefecture-level city.
    area_code: &'static str,
    lat: f64,
    lon: f64,
    /// How far (degrees of latitude) its townships lie from the centre.
    spread: f64,
    /// Relative share of the townships (roughly the population, in 100,000s).
    weight: u32,
    /// A city district: mostly subdistricts (街道) with communities rather than villages.
    urban: bool,
}

macro_rules! counties {
    ($(($zh:literal, $en:literal, $code:literal, $lat:literal, $lon:literal, $spread:literal, $weight:literal, $urban:literal)),+ $(,)?) => {
        &[$(County { zh: $zh, en: $en, area_code: $code, lat: $lat, lon: $lon, spread: $spread, weight: $weight, urban: $urban }),+]
    };
}

#[rustfmt::skip]
const COUNTIES: &[County] = counties![
    // Ningbo 宁波
    ("海曙区", "Haishu", "0574", 29.860, 121.470, 0.08, 10, true),
    ("江北区", "Jiangbei", "0574", 29.930, 121.530, 0.05, 5, true),
    ("鄞州区", "Yinzhou", "0574", 29.800, 121.600, 0.10, 16, true),
    ("镇海区", "Zhenhai", "0574", 29.960, 121.650, 0.04, 5, true),
    ("北仑区", "Beilun", "0574", 29.870, 121.830, 0.06, 8, true),
    ("奉化区", "Fenghua", "0574", 29.650, 121.380, 0.10, 6, false),
    ("余姚市", "Yuyao", "0574", 30.020, 121.150, 0.12, 12, false),
    ("慈溪市", "Cixi", "0574", 30.170, 121.270, 0.08, 18, false),
    ("宁海县", "Ninghai", "0574", 29.300, 121.400, 0.10, 7, false),
    ("象山县", "Xiangshan", "0574", 29.450, 121.820, 0.06, 6, false),
    // Hangzhou 杭州
    ("西湖区", "Xihu", "0571", 30.250, 120.100, 0.05, 12, true),
    ("拱墅区", "Gongshu", "0571", 30.320, 120.150, 0.04, 12, true),
    ("萧山区", "Xiaoshan", "0571", 30.170, 120.280, 0.10, 20, true),
    ("余杭区", "Yuhang", "0571", 30.400, 120.050, 0.10, 12, true),
    ("富阳区", "Fuyang", "0571", 30.030, 119.920, 0.12, 8, false),
    ("临安区", "Lin'an", "0571", 30.220, 119.600, 0.14, 6, false),
    ("桐庐县", "Tonglu", "0571", 29.800, 119.650, 0.12, 5, false),
    ("淳安县", "Chun'an", "0571", 29.620, 118.980, 0.12, 4, false),
    ("建德市", "Jiande", "0571", 29.480, 119.300, 0.12, 4, false),
    // Jiaxing 嘉兴
    ("南湖区", "Nanhu", "0573", 30.750, 120.780, 0.06, 6, true),
    ("海宁市", "Haining", "0573", 30.480, 120.650, 0.08, 11, false),
    ("桐乡市", "Tongxiang", "0573", 30.630, 120.540, 0.08, 10, false),
    ("嘉善县", "Jiashan", "0573", 30.850, 120.900, 0.06, 7, false),
    ("平湖市", "Pinghu", "0573", 30.720, 121.030, 0.05, 7, false),
    // Huzhou 湖州
    ("吴兴区", "Wuxing", "0572", 30.830, 120.120, 0.08, 7, true),
    ("长兴县", "Changxing", "0572", 31.000, 119.850, 0.10, 7, false),
    ("德清县", "Deqing", "0572", 30.560, 120.000, 0.08, 5, false),
    ("安吉县", "Anji", "0572", 30.620, 119.650, 0.12, 6, false),
    // Shaoxing 绍兴
    ("越城区", "Yuecheng", "0575", 30.000, 120.600, 0.05, 9, true),
    ("柯桥区", "Keqiao", "0575", 30.020, 120.470, 0.08, 11, true),
    ("上虞区", "Shangyu", "0575", 29.980, 120.880, 0.10, 8, false),
    ("诸暨市", "Zhuji", "0575", 29.710, 120.240, 0.12, 12, false),
    ("嵊州市", "Shengzhou", "0575", 29.580, 120.800, 0.10, 7, false),
    ("新昌县", "Xinchang", "0575", 29.480, 120.950, 0.08, 4, false),
    // Jinhua 金华
    ("婺城区", "Wucheng", "0579", 29.050, 119.600, 0.10, 9, true),
    ("义乌市", "Yiwu", "0579", 29.300, 120.080, 0.10, 19, false),
    ("东阳市", "Dongyang", "0579", 29.250, 120.300, 0.10, 11, false),
    ("永康市", "Yongkang", "0579", 28.900, 120.050, 0.08, 10, false),
    ("兰溪市", "Lanxi", "0579", 29.220, 119.480, 0.10, 6, false),
    ("武义县", "Wuyi", "0579", 28.850, 119.780, 0.10, 5, false),
    ("浦江县", "Pujiang", "0579", 29.470, 119.880, 0.07, 5, false),
    // Quzhou 衢州
    ("柯城区", "Kecheng", "0570", 28.980, 118.850, 0.07, 5, true),
    ("江山市", "Jiangshan", "0570", 28.720, 118.620, 0.12, 5, false),
    ("龙游县", "Longyou", "0570", 29.030, 119.170, 0.08, 4, false),
    ("常山县", "Changshan", "0570", 28.900, 118.520, 0.08, 3, false),
    // Zhoushan 舟山
    ("定海区", "Dinghai", "0580", 30.030, 122.080, 0.03, 5, true),
    // Taizhou 台州
    ("椒江区", "Jiaojiang", "0576", 28.660, 121.400, 0.04, 9, true),
    ("黄岩区", "Huangyan", "0576", 28.630, 121.180, 0.08, 7, true),
    ("临海市", "Linhai", "0576", 28.850, 121.120, 0.12, 11, false),
    ("温岭市", "Wenling", "0576", 28.400, 121.380, 0.06, 14, false),
    ("天台县", "Tiantai", "0576", 29.150, 121.000, 0.10, 5, false),
    ("仙居县", "Xianju", "0576", 28.830, 120.700, 0.10, 4, false),
    // Wenzhou 温州
    ("鹿城区", "Lucheng", "0577", 28.020, 120.620, 0.05, 11, true),
    ("瑞安市", "Rui'an", "0577", 27.800, 120.580, 0.09, 15, false),
    ("乐清市", "Yueqing", "0577", 28.150, 120.950, 0.07, 14, false),
    ("永嘉县", "Yongjia", "0577", 28.230, 120.680, 0.12, 9, false),
    ("平阳县", "Pingyang", "0577", 27.670, 120.530, 0.08, 9, false),
    ("苍南县", "Cangnan", "0577", 27.520, 120.380, 0.07, 9, false),
    ("文成县", "Wencheng", "0577", 27.800, 120.080, 0.10, 3, false),
    // Lishui 丽水
    ("莲都区", "Liandu", "0578", 28.450, 119.900, 0.10, 5, true),
    ("龙泉市", "Longquan", "0578", 28.080, 119.150, 0.12, 3, false),
    ("缙云县", "Jinyun", "0578", 28.660, 120.080, 0.09, 4, false),
    ("遂昌县", "Suichang", "0578", 28.590, 119.280, 0.10, 2, false),
    ("青田县", "Qingtian", "0578", 28.150, 120.280, 0.09, 4, false),
];

/// Syllables of place names, with their pinyin (the reading common in place names).
#[rustfmt::skip]
const SYLLABLES: &[(&str, &str)] = &[
    ("东", "dong"), ("西", "xi"), ("南", "nan"), ("北", "bei"), ("新", "xin"), ("大", "da"),
    ("小", "xiao"), ("长", "chang"), ("石", "shi"), ("竹", "zhu"), ("梅", "mei"), ("桃", "tao"),
    ("柏", "bai"), ("湖", "hu"), ("溪", "xi"), ("塘", "tang"), ("桥", "qiao"), ("山", "shan"),
    ("岭", "ling"), ("江", "jiang"), ("浦", "pu"), ("港", "gang"), ("泉", "quan"), ("林", "lin"),
    ("田", "tian"), ("坑", "keng"), ("岙", "ao"), ("埠", "bu"), ("龙", "long"), ("凤", "feng"),
    ("马", "ma"), ("金", "jin"), ("白", "bai"), ("黄", "huang"), ("青", "qing"), ("安", "an"),
    ("宁", "ning"), ("平", "ping"), ("丰", "feng"), ("兴", "xing"), ("华", "hua"), ("清", "qing"),
    ("云", "yun"), ("松", "song"), ("花", "hua"), ("亭", "ting"), ("洋", "yang"), ("渡", "du"),
    ("阳", "yang"), ("泽", "ze"), ("桑", "sang"), ("茶", "cha"), ("沙", "sha"), ("河", "he"),
    ("庄", "zhuang"), ("里", "li"), ("上", "shang"), ("下", "xia"), ("前", "qian"), ("后", "hou"),
    ("高", "gao"), ("湾", "wan"), ("垟", "yang"), ("峰", "feng"),
];

#[rustfmt::skip]
const SURNAMES: &[&str] = &[
    "陈", "王", "张", "周", "胡", "徐", "孙", "朱", "黄", "施", "毛", "谢", "潘", "邵", "叶",
    "杨", "蒋", "沈", "鲁", "严", "钱", "史", "宋", "魏", "郑", "吴", "金", "林", "方", "楼",
];

/// What follows a surname in a village name: 陈家桥村, 王家岙村.
#[rustfmt::skip]
const SURNAME_SUFFIXES: &[&str] = &[
    "家村", "家山村", "家桥村", "家岙村", "家浦村", "家塘村", "家湾村", "家溪村",
];

const COMMUNITY_SUFFIXES: &[&str] = &["社区", "苑社区", "里社区", "园社区"];

#[rustfmt::skip]
const ROADS: &[&str] = &[
    "人民路", "中山路", "解放路", "建设路", "新华路", "文化路", "工业路", "环城路", "府前路",
    "学院路", "健康路", "东风路",
];

/// County hospitals whose fever clinics a county gets first, then central health centres.
const HOSPITALS: &[(&str, &str)] = &[
    ("人民医院", "People's Hospital"),
    ("中医医院", "Hospital of Traditional Chinese Medicine"),
    ("第二人民医院", "Second People's Hospital"),
    ("妇幼保健院", "Maternal and Child Health Hospital"),
    ("第三人民医院", "Third People's Hospital"),
    ("中西医结合医院", "Hospital of Integrated Medicine"),
];

const HOSPITAL_HOURS: &[&str] = &["24/7"];
const CENTRE_HOURS: &[&str] = &[
    "Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-11:30",
    "Mo-Fr 08:00-11:30,13:30-17:00; Sa,Su 08:00-11:30",
    "Mo-Su 08:00-11:30,13:30-17:00",
    "Mo-Fr 07:30-11:30,13:30-17:00; Sa 07:30-11:30; PH off",
];
const STATION_HOURS: &[&str] = &[
    "Mo-Su 08:00-20:00",
    "Mo-Su 08:00-17:00",
    "Mo-Su 07:30-21:00",
    "24/7",
];
const VACCINATION_HOURS: &[&str] = &[
    "Mo-Fr 08:00-11:30,13:30-16:30; Sa 08:00-11:30",
    "Mo-Fr 08:30-11:30,13:30-16:00",
    "Tu,Th 08:30-11:30",
    "We,Sa 08:30-11:30,13:30-16:00",
    "Mo,We,Fr 09:00-11:30",
];
const CLINIC_HOURS: &[&str] = &[
    "Mo-Sa 07:30-11:30,13:30-17:00",
    "Mo-Su 08:00-11:00,14:00-17:00",
    "Mo-Fr 08:00-11:30,13:30-16:30; Sa 08:00-11:30",
    "Mo-Su 07:00-11:00,13:00-17:00",
    "Mo-Sa 08:00-16:00",
];

/// Every opening-hours text above, parsed once (cloning is cheaper than parsing).
struct Hours {
    hospital: Vec<OpeningHours>,
    centre: Vec<OpeningHours>,
    station: Vec<OpeningHours>,
    vaccination: Vec<OpeningHours>,
    clinic: Vec<OpeningHours>,
}

impl Hours {
    fn parse() -> Result<Self, ValidationError> {
        let all = |list: &[&str]| -> Result<Vec<OpeningHours>, ValidationError> {
            list.iter().map(|h| OpeningHours::parse(h)).collect()
        };
        Ok(Hours {
            hospital: all(HOSPITAL_HOURS)?,
            centre: all(CENTRE_HOURS)?,
            station: all(STATION_HOURS)?,
            vaccination: all(VACCINATION_HOURS)?,
            clinic: all(CLINIC_HOURS)?,
        })
    }
}

/// A township's level: 街道 (subdistrict), 镇 (town) or 乡 (township).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Subdistrict,
    Town,
    Township,
}

impl Level {
    fn zh(self) -> &'static str {
        match self {
            Level::Subdistrict => "街道",
            Level::Town => "镇",
            Level::Township => "乡",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Level::Subdistrict => "Subdistrict",
            Level::Town => "Town",
            Level::Township => "Township",
        }
    }
}

/// What the generator remembers of a county: township names taken, hospitals given out.
#[derive(Default)]
struct CountyState {
    townships: HashSet<String>,
    hospitals: usize,
}

/// One facility before validation.
struct Draft {
    kind: FacilityKind,
    zh: String,
    en: String,
    lat: f64,
    lon: f64,
    township: String,
    village: Option<String>,
    address: String,
    phone: String,
    hours: OpeningHours,
    services: BTreeSet<Service>,
    capacity: Capacity,
    operational: caremap_model::Operational,
    mobile: bool,
}

/// The generator: an iterator of `size` valid facilities, township by township.
pub struct Synthetic {
    rng: ChaCha8Rng,
    size: usize,
    produced: usize,
    pending: VecDeque<Draft>,
    counties: Vec<CountyState>,
    /// Running sums of the counties' weights, for a weighted pick.
    cumulative: Vec<u32>,
    hours: Hours,
}

/// The synthetic registry of `size` facilities (at most [`MAX_SIZE`]), generated lazily so that
/// it can be written in chunks.
pub fn registry(size: usize) -> Result<Synthetic, ValidationError> {
    let cumulative = COUNTIES
        .iter()
        .scan(0, |sum, c| {
            *sum += c.weight;
            Some(*sum)
        })
        .collect();
    Ok(Synthetic {
        rng: ChaCha8Rng::seed_from_u64(SEED),
        size: size.min(MAX_SIZE),
        produced: 0,
        pending: VecDeque::new(),
        counties: COUNTIES.iter().map(|_| CountyState::default()).collect(),
        cumulative,
        hours: Hours::parse()?,
    })
}

impl Iterator for Synthetic {
    type Item = Result<(FacilityId, Facility), ValidationError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.produced >= self.size {
            return None;
        }
        if self.pending.is_empty() {
            self.township();
        }
        let draft = self.pending.pop_front()?;
        self.produced += 1;
        Some(build(self.produced, draft))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.size - self.produced;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Synthetic {}

impl Synthetic {
    /// Generates the facilities of one more township into `pending`.
    fn township(&mut self) {
        let rng = &mut self.rng;
        let total = self.cumulative.last().copied().unwrap_or(1);
        let roll = rng.random_range(0..total);
        let c = self.cumulative.partition_point(|&sum| sum <= roll);
        let county = &COUNTIES[c];
        let state = &mut self.counties[c];

        let level = {
            let roll: f64 = rng.random();
            let (subdistrict, town) = if county.urban {
                (0.6, 0.9)
            } else {
                (0.15, 0.75)
            };
            if roll < subdistrict {
                Level::Subdistrict
            } else if roll < town {
                Level::Town
            } else {
                Level::Township
            }
        };
        let (name_zh, name_py) = loop {
            let (a, b) = (pick(rng, SYLLABLES), pick(rng, SYLLABLES));
            if a.0 == b.0 {
                continue;
            }
            let zh = format!("{}{}{}", a.0, b.0, level.zh());
            // Many counties once had more townships than names: a rare clash takes a third
            // syllable rather than looping for ever.
            if state.townships.insert(zh.clone()) {
                break (zh, format!("{}{}", capitalise(a.1), b.1));
            }
            let c3 = pick(rng, SYLLABLES);
            let zh = format!("{}{}{}{}", a.0, b.0, c3.0, level.zh());
            if state.townships.insert(zh.clone()) {
                break (zh, format!("{}{}{}", capitalise(a.1), b.1, c3.1));
            }
        };
        let town_en = format!("{name_py} {}", level.en());
        let (lat, lon) = around(rng, county.lat, county.lon, county.spread);
        let road = pick(rng, ROADS);
        let centre_address = format!(
            "{}{}{}{}号",
            county.zh,
            name_zh,
            road,
            rng.random_range(1..=300)
        );
        let subdistrict = level == Level::Subdistrict;
        let (centre_zh, centre_en) = if subdistrict {
            (
                format!("{name_zh}社区卫生服务中心"),
                format!("{name_py} Community Health Service Centre"),
            )
        } else {
            (
                format!("{name_zh}卫生院"),
                format!("{name_py} Health Centre"),
            )
        };
        let hours = &self.hours;
        let out = &mut self.pending;
        let draft =
            |kind, zh: String, en: String, (lat, lon): (f64, f64), hours: &OpeningHours| Draft {
                kind,
                zh,
                en,
                lat,
                lon,
                township: name_zh.clone(),
                village: None,
                address: centre_address.clone(),
                phone: String::new(),
                hours: hours.clone(),
                services: BTreeSet::new(),
                capacity: Capacity::default(),
                operational: caremap_model::Operational::Open,
                mobile: false,
            };

        // The health centre.
        let mut centre = draft(
            FacilityKind::TownshipHealthCenter,
            centre_zh.clone(),
            centre_en.clone(),
            around(rng, lat, lon, 0.002),
            &hours.centre[rng.random_range(0..hours.centre.len())],
        );
        centre.phone = landline(rng, county.area_code);
        centre.services = services(
            rng,
            &[
                (Service::AntigenTesting, 0.9),
                (Service::ElderlyVaccination, 0.9),
                (Service::WheelchairAccess, 0.7),
                (Service::PaediatricFever, 0.3),
                (Service::HomeVisits, 0.3),
            ],
        );
        centre.capacity = Capacity {
            doctors: Some(rng.random_range(6..=30)),
            beds: Some(rng.random_range(0..=40)),
            daily_capacity: Some(rng.random_range(100..=600)),
        };
        centre.operational = operational(rng, 0.08, 0.0);
        out.push_back(centre);

        // A fever clinic: the county's hospitals first, then central health centres.
        if rng.random_bool(0.22) {
            let (zh, en, address) = match HOSPITALS.get(state.hospitals) {
                Some((zh, en)) => (
                    format!("{}{zh}发热门诊", county.zh),
                    format!("{} {en} fever clinic", county.en),
                    format!(
                        "{}{}{}号",
                        county.zh,
                        pick(rng, ROADS),
                        rng.random_range(1..=500)
                    ),
                ),
                None => (
                    format!("{name_zh}中心卫生院发热门诊"),
                    format!("{name_py} Central Health Centre fever clinic"),
                    centre_address.clone(),
                ),
            };
            state.hospitals += 1;
            let mut clinic = draft(
                FacilityKind::FeverClinic,
                zh,
                en,
                around(rng, lat, lon, 0.01),
                &hours.hospital[0],
            );
            clinic.address = address;
            clinic.phone = landline(rng, county.area_code);
            clinic.services = services(
                rng,
                &[
                    (Service::Open24h, 1.0),
                    (Service::AntigenTesting, 1.0),
                    (Service::WheelchairAccess, 0.9),
                    (Service::PaediatricFever, 0.5),
                ],
            );
            clinic.capacity = Capacity {
                doctors: Some(rng.random_range(4..=20)),
                beds: Some(rng.random_range(10..=60)),
                daily_capacity: Some(rng.random_range(200..=900)),
            };
            clinic.operational = operational(rng, 0.05, 0.0);
            out.push_back(clinic);
        }

        // A fever station beside the health centre in most townships.
        if rng.random_bool(0.6) {
            let mut station = draft(
                FacilityKind::FeverStation,
                format!("{name_zh}发热诊疗站"),
                format!("{town_en} fever station"),
                around(rng, lat, lon, 0.004),
                &hours.station[rng.random_range(0..hours.station.len())],
            );
            station.address = format!("{centre_address}{centre_zh}旁");
            station.phone = landline(rng, county.area_code);
            station.services = services(
                rng,
                &[
                    (Service::AntigenTesting, 0.95),
                    (Service::PaediatricFever, 0.6),
                ],
            );
            station.capacity = Capacity {
                doctors: Some(rng.random_range(2..=6)),
                beds: None,
                daily_capacity: Some(rng.random_range(60..=250)),
            };
            station.operational = operational(rng, 0.1, 0.05);
            out.push_back(station);
        }

        // Vaccination points: the centre's clinic, then temporary or mobile ones.
        let points = if subdistrict {
            rng.random_range(1..=2)
        } else {
            rng.random_range(1..=3)
        };
        for i in 0..points {
            let mobile = i > 0 && rng.random_bool(0.5);
            let (zh, en, hours) = if i == 0 {
                (
                    format!("{centre_zh}预防接种门诊"),
                    format!("{centre_en} vaccination clinic"),
                    &hours.vaccination[rng.random_range(0..2)],
                )
            } else if mobile {
                (
                    format!("{name_zh}流动接种点{i}号"),
                    format!("{town_en} mobile vaccination team {i}"),
                    &hours.vaccination[rng.random_range(2..hours.vaccination.len())],
                )
            } else {
                (
                    format!("{name_zh}临时接种点{i}号"),
                    format!("{town_en} temporary vaccination point {i}"),
                    &hours.vaccination[1],
                )
            };
            let spread = if i == 0 { 0.002 } else { 0.02 };
            let mut point = draft(
                FacilityKind::VaccinationPoint,
                zh,
                en,
                around(rng, lat, lon, spread),
                hours,
            );
            if i > 0 {
                point.address = format!("{}{}", county.zh, name_zh);
            }
            point.phone = landline(rng, county.area_code);
            point.services = BTreeSet::from([Service::ElderlyVaccination]);
            point.capacity = Capacity {
                doctors: Some(rng.random_range(1..=4)),
                beds: None,
                daily_capacity: Some(rng.random_range(60..=240)),
            };
            point.operational = operational(rng, 0.05, 0.03);
            point.mobile = mobile;
            out.push_back(point);
        }

        // Village clinics, or community health stations in a subdistrict.
        let clinics = if subdistrict {
            rng.random_range(4..=9)
        } else {
            rng.random_range(8..=17)
        };
        let mut villages = HashSet::new();
        for _ in 0..clinics {
            let village_zh = loop {
                let zh = if subdistrict {
                    let (a, b) = (pick(rng, SYLLABLES).0, pick(rng, COMMUNITY_SUFFIXES));
                    format!("{a}{}{b}", pick(rng, SYLLABLES).0)
                } else if rng.random_bool(0.45) {
                    format!("{}{}", pick(rng, SURNAMES), pick(rng, SURNAME_SUFFIXES))
                } else {
                    format!("{}{}村", pick(rng, SYLLABLES).0, pick(rng, SYLLABLES).0)
                };
                if villages.insert(zh.clone()) {
                    break zh;
                }
            };
            let (station, spread) = if subdistrict {
                ("卫生服务站", 0.012)
            } else {
                ("卫生室", 0.035)
            };
            // No English name: see `build`.
            let mut clinic = draft(
                FacilityKind::VillageClinic,
                format!("{name_zh}{village_zh}{station}"),
                String::new(),
                around(rng, lat, lon, spread),
                &hours.clinic[rng.random_range(0..hours.clinic.len())],
            );
            clinic.address = format!(
                "{}{}{}{}号",
                county.zh,
                name_zh,
                village_zh,
                rng.random_range(1..=200)
            );
            clinic.village = Some(village_zh);
            clinic.phone = if rng.random_bool(0.4) {
                mobile_phone(rng)
            } else {
                landline(rng, county.area_code)
            };
            clinic.services = services(
                rng,
                &[
                    (Service::HomeVisits, 0.6),
                    (Service::ElderlyVaccination, 0.4),
                    (Service::AntigenTesting, 0.5),
                    (Service::WheelchairAccess, 0.1),
                ],
            );
            clinic.capacity = Capacity {
                doctors: Some(rng.random_range(1..=3)),
                beds: None,
                daily_capacity: Some(rng.random_range(20..=80)),
            };
            clinic.operational = operational(rng, 0.06, 0.03);
            out.push_back(clinic);
        }
    }
}

/// The facility numbered `n` (from 1), validated by the model.
fn build(n: usize, d: Draft) -> Result<(FacilityId, Facility), ValidationError> {
    let external = ExternalId::parse(&format!("{EXTERNAL_ID_PREFIX}{n}"))?;
    // Real registries seldom give a village clinic an English name; the others have one here.
    let en = match d.kind {
        FacilityKind::VillageClinic => None,
        _ => Some(Name::parse_for(&format!("{} (demo)", d.en), Field::NameEn)?),
    };
    let facility = Facility {
        kind: d.kind,
        name: Names {
            zh: Name::parse_for(&format!("{}（演示）", d.zh), Field::Name)?,
            en,
        },
        location: LatLon::new(d.lat, d.lon)?,
        address: Some(Address::parse_for(&d.address, Field::Address)?),
        area: AdminArea {
            township: Some(AreaName::parse_for(&d.township, Field::Township)?),
            village: d
                .village
                .as_deref()
                .map(|v| AreaName::parse_for(v, Field::Village))
                .transpose()?,
        },
        phone: Some(Phone::parse(&d.phone)?),
        opening_hours: Some(d.hours),
        services: d.services,
        capacity: d.capacity.validate()?,
        operational: d.operational,
        mobile: d.mobile,
        external_ids: BTreeSet::from([external.clone()]),
    };
    Ok((FacilityId::from_external(&external), facility))
}

fn capitalise(pinyin: &str) -> String {
    let mut chars = pinyin.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A point uniformly in the disc of `radius` degrees (of latitude) around a centre.
fn around(rng: &mut ChaCha8Rng, lat: f64, lon: f64, radius: f64) -> (f64, f64) {
    let r = radius * rng.random::<f64>().sqrt();
    let angle = rng.random_range(0.0..std::f64::consts::TAU);
    // A degree of longitude is shorter than one of latitude by cos(latitude).
    let lon_scale = 1.0 / lat.to_radians().cos();
    (lat + r * angle.sin(), lon + r * angle.cos() * lon_scale)
}

fn services(rng: &mut ChaCha8Rng, odds: &[(Service, f64)]) -> BTreeSet<Service> {
    odds.iter()
        .filter(|(_, p)| rng.random_bool(*p))
        .map(|(s, _)| *s)
        .collect()
}

/// A made-up landline: area code and eight digits.
fn landline(rng: &mut ChaCha8Rng, area_code: &str) -> String {
    let first = pick(rng, &[6u32, 8]);
    format!(
        "{area_code}-{first}{:07}",
        rng.random_range(0..10_000_000u32)
    )
}

/// A made-up mobile number (village doctors often give theirs).
fn mobile_phone(rng: &mut ChaCha8Rng) -> String {
    let prefix = pick(rng, &[135u32, 137, 138, 139, 150, 158, 159, 187, 188]);
    format!("{prefix}{:08}", rng.random_range(0..100_000_000u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counties_are_in_zhejiang_with_their_area_codes() {
        for c in COUNTIES {
            assert!((27.0..31.2).contains(&c.lat), "{}", c.zh);
            assert!((118.0..122.5).contains(&c.lon), "{}", c.zh);
            assert!(c.area_code.starts_with("05"), "{}", c.zh);
        }
    }

    #[test]
    fn pinyin_is_capitalised() {
        assert_eq!(capitalise("dong"), "Dong");
        assert_eq!(capitalise(""), "");
    }
}
