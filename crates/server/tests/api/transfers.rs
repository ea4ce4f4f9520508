//! The `transfers` command: what a health officer reads when kits are short somewhere, from the
//! latest reports the doctors sent, on SQLite and PostgreSQL.

use crate::export::fixture_registry;
use crate::helpers::{enrolled, load_report, report_mutation, spawn_app, Backend};
use caremap_model::{
    FacilityId, LatLon, Names, Outcome, ReportId, Role, Stock, StockItem, StockLevel,
};
use chrono::{Duration, Utc};
use std::process::Command;

crate::on_every_backend!(kits_go_from_surplus_to_shortage_by_the_latest_reports);

fn kits(level: StockLevel, count: Option<u32>, daily_need: Option<u32>) -> Stock {
    Stock {
        level,
        count,
        daily_need,
    }
}

async fn kits_go_from_surplus_to_shortage_by_the_latest_reports(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Four clinics a few kilometres apart, named so the sentences can be read.
    let mut registry = fixture_registry();
    let places = [
        ("城东卫生院", 30.0500, 121.1500),
        ("马渚镇卫生院", 30.0500, 121.1800),
        ("临山镇卫生院", 30.0800, 121.1500),
        ("北村卫生室", 30.0200, 121.1500),
    ];
    for ((_, facility), (zh, lat, lon)) in registry.iter_mut().zip(places) {
        facility.name = Names {
            zh: caremap_model::Name::parse_for(zh, caremap_model::Field::Name).expect("name"),
            en: None,
        };
        facility.location = LatLon::new(lat, lon).expect("location");
        facility.operational = caremap_model::Operational::Open;
    }
    app.store.upsert_batch(&registry).await.expect("registry");
    let ids: Vec<FacilityId> = registry.iter().map(|(id, _)| *id).collect();
    let (_, token) = enrolled(&app, Role::Admin, &[]).await;
    let earlier = Utc::now() - Duration::hours(3);
    let now = Utc::now() - Duration::minutes(10);
    let report = |facility: FacilityId, at, stock: Option<Stock>| {
        let mut r = load_report(facility, at, 20);
        if let Some(stock) = stock {
            r.stock.insert(StockItem::AntigenKits, stock);
        }
        report_mutation(ReportId::new_v7(), &r)
    };
    let pushed = app
        .push(
            &token,
            &[
                // Plenty: 1,000 kits, 10 a day (keeps 70 for 7 days; 930 can go).
                report(
                    ids[0],
                    now,
                    Some(kits(StockLevel::Ample, Some(1000), Some(10))),
                ),
                // Out: 50 a day, needs 150 for 3 days.
                report(ids[1], now, Some(kits(StockLevel::Out, Some(0), Some(50)))),
                // Short earlier, but its latest report gives no count: left out.
                report(
                    ids[2],
                    earlier,
                    Some(kits(StockLevel::Low, Some(5), Some(40))),
                ),
                report(ids[2], now, Some(kits(StockLevel::Low, None, None))),
                // Low: 20 kits, 30 a day, needs 70 more.
                report(ids[3], now, Some(kits(StockLevel::Low, Some(20), Some(30)))),
            ],
        )
        .await;
    assert!(
        pushed.iter().all(|r| r.outcome == Outcome::Applied),
        "{pushed:?}"
    );

    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_caremap-server"))
            .arg("--database")
            .arg(&app.db.url)
            .args(args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run caremap-server");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, zh, summary) = run(&["transfers", "--item", "antigen_kits"]);
    assert!(ok, "{summary}");
    let lines: Vec<&str> = zh.lines().collect();
    assert_eq!(lines.len(), 2, "{zh}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("从 城东卫生院 调 150 份抗原检测试剂到 马渚镇卫生院，")),
        "{zh}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("从 城东卫生院 调 70 份抗原检测试剂到 北村卫生室，")),
        "{zh}"
    );
    assert!(!zh.contains("临山镇卫生院"), "{zh}");
    // After both, the giver keeps (1000 − 220) ÷ 10 = 78 days.
    assert!(
        lines.iter().all(|l| l.contains("城东卫生院 还够 78 天")),
        "{zh}"
    );
    assert!(summary.contains("3 clinics counted"), "{summary}");
    assert!(
        summary.contains("short 220 units in all, 220 covered by 2 transfers"),
        "{summary}"
    );

    // In English; and a cap of 3 km leaves only the near one (2.9 km; the village is 3.3 km off).
    let (ok, en, summary) = run(&[
        "transfers",
        "--item",
        "antigen_kits",
        "--lang",
        "en",
        "--max-km",
        "3",
    ]);
    assert!(ok, "{summary}");
    assert_eq!(en.lines().count(), 1, "{en}");
    assert!(
        en.starts_with("Move 150 antigen test kits from 城东卫生院 to 马渚镇卫生院, 2.9 km;"),
        "{en}"
    );
    assert!(summary.contains("150 covered by 1 transfers"), "{summary}");

    // A rule that makes no sense is refused with a message, not a panic.
    let (ok, _, err) = run(&[
        "transfers",
        "--item",
        "antigen_kits",
        "--min-days",
        "9",
        "--keep-days",
        "3",
    ]);
    assert!(!ok);
    assert!(!err.contains("panicked"), "{err}");
}
