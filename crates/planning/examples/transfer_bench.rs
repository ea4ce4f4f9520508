//! Times the stock plan of a whole city: 2,000 synthetic facilities around Yuyao, four items,
//! each solved exactly (issue 16's budget: at most 1 s on the server for all four).
//!
//! `cargo run --release -p caremap-planning --example transfer_bench`
//!
//! The facilities are drawn by a seeded ChaCha generator, so every run plans the same city.
//! Each item gets its own spread of days of cover (from out of stock to a month), so some
//! items are short city-wide and others have surplus to spare. In the "lopsided" city cover
//! grows from west to east: the west is short, the east holds the surplus, so stock travels far
//! and the nearest candidate pairs are not enough (the solver adds columns until its
//! certificates hold).

use caremap_model::{Lang, LatLon, StockItem};
use caremap_planning::{plan_stock, CoverRule, StockSite};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

const FACILITIES: usize = 2_000;
/// The city: about 45 km north–south and 50 km east–west.
const SOUTH_WEST: (f64, f64) = (29.85, 120.90);
const SPAN_DEG: f64 = 0.4;

fn sites(rng: &mut ChaCha8Rng, mean_days: f64, lopsided: bool) -> Vec<StockSite<usize>> {
    (0..FACILITIES)
        .map(|id| {
            let at = LatLon::new(
                SOUTH_WEST.0 + rng.random::<f64>() * SPAN_DEG,
                SOUTH_WEST.1 + rng.random::<f64>() * SPAN_DEG,
            )
            .unwrap_or_else(|e| panic!("a synthetic position out of range: {e}"));
            let daily_need: u32 = rng.random_range(0..=200);
            let spread = if lopsided {
                // 0 in the far west, 1 in the far east.
                (at.lon() - SOUTH_WEST.1) / SPAN_DEG
            } else {
                rng.random::<f64>()
            };
            let days = spread * 2.0 * mean_days;
            StockSite {
                id,
                at,
                stock: (f64::from(daily_need) * days) as u32 + rng.random_range(0..20),
                daily_need,
            }
        })
        .collect()
}

fn run(label: &str, rule: &CoverRule, lopsided: bool) -> Duration {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    println!("\n{label}");
    println!(
        "{:<26} {:>6} {:>6} {:>9} {:>9} {:>12} {:>6} {:>7} {:>9}",
        "item", "short", "give", "shortage", "covered", "unit·km", "rounds", "columns", "time"
    );
    let mut total = Duration::ZERO;
    // Mean days of cover per item: kits short city-wide, oxygen plentiful.
    for (item, mean_days) in StockItem::ALL.iter().zip([6.0, 4.0, 8.0, 12.0]) {
        let sites = sites(&mut rng, mean_days, lopsided);
        let started = Instant::now();
        let plan =
            plan_stock(&sites, rule).unwrap_or_else(|e| panic!("{}: {e}", item.label(Lang::En)));
        let took = started.elapsed();
        total += took;
        println!(
            "{:<26} {:>6} {:>6} {:>9} {:>9} {:>12.0} {:>6} {:>7} {:>7.1}ms",
            item.label(Lang::En),
            plan.stats.receivers,
            plan.stats.suppliers,
            plan.total_shortage,
            plan.covered,
            plan.unit_km,
            plan.stats.rounds,
            plan.stats.columns,
            took.as_secs_f64() * 1e3,
        );
        if let Some(t) = plan.transfers.first() {
            println!("    e.g. {}", t.explain("甲", "乙", *item, Lang::Zh));
        }
    }
    println!("all four items: {:.1} ms", total.as_secs_f64() * 1e3);
    total
}

fn main() {
    let rules = [
        ("min 3 days, keep 7 days, any distance", None),
        ("min 3 days, keep 7 days, at most 15 km", Some(15.0)),
    ];
    let mut slowest = Duration::ZERO;
    for lopsided in [false, true] {
        let city = if lopsided {
            "a lopsided city"
        } else {
            "a mixed city"
        };
        for (label, max_km) in rules {
            let rule = CoverRule::new(3, 7, max_km).unwrap_or_else(|e| panic!("{label}: {e}"));
            let took = run(
                &format!("{FACILITIES} facilities, {city}, {label}"),
                &rule,
                lopsided,
            );
            slowest = slowest.max(took);
        }
    }
    println!(
        "\nslowest city, all four items: {:.1} ms (budget 1000 ms)",
        slowest.as_secs_f64() * 1e3
    );
}
