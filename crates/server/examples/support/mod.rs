//! What the load examples share (`chaos.rs`, `flood_bench.rs`; included with `#[path]`, so it
//! is no example of its own): reporters with facilities and device tokens, the push body a
//! phone sends, a throw-away PostgreSQL database, percentiles.
#![allow(dead_code)]

use caremap_model::{
    AdminArea, AreaName, ExternalId, Facility, FacilityId, FacilityKind, Field, LatLon, Name,
    Names, Role, Scope,
};
use caremap_server::auth;
use caremap_server::store::{NewAccount, SharedStore};
use sqlx::Connection as _;
use std::collections::BTreeSet;
use std::time::Duration;

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL the examples use: `CAREMAP_TEST_POSTGRES_URL`, else the tests' URL.
pub fn postgres_url() -> String {
    std::env::var("CAREMAP_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into())
}

/// `clients` facilities, each with a reporter account and a device token; returns
/// `(token, facility)` per client.
pub async fn setup(
    store: &SharedStore,
    clients: usize,
) -> Result<Vec<(String, FacilityId)>, String> {
    let facilities: Vec<(FacilityId, Facility)> =
        (0..clients).map(bench_facility).collect::<Result<_, _>>()?;
    store
        .upsert_batch(&facilities)
        .await
        .map_err(|e| e.to_string())?;
    let mut tokens = Vec::with_capacity(clients);
    for (id, _) in &facilities {
        let code = auth::new_enrollment_code().map_err(|e| e.to_string())?;
        store
            .create_account(
                &NewAccount {
                    name: format!("bench doctor {id}"),
                    role: Role::Reporter,
                    scope: Scope {
                        facilities: vec![*id],
                        townships: Vec::new(),
                    },
                },
                &auth::code_hash(&code),
                chrono::Utc::now() + chrono::Duration::days(1),
            )
            .await
            .map_err(|e| e.to_string())?;
        let token = auth::new_token().map_err(|e| e.to_string())?;
        store
            .enroll(
                &auth::code_hash(&code),
                &auth::sha256_hex(&token),
                Some("bench"),
            )
            .await
            .map_err(|e| e.to_string())?
            .ok_or("enrollment failed")?;
        tokens.push((token, *id));
    }
    Ok(tokens)
}

pub fn bench_facility(n: usize) -> Result<(FacilityId, Facility), String> {
    let external = ExternalId::parse(&format!("bench:{n}")).map_err(|e| e.to_string())?;
    let facility = Facility {
        kind: FacilityKind::VillageClinic,
        name: Names {
            zh: Name::parse_for(&format!("压测村卫生室{n}"), Field::Name)
                .map_err(|e| e.to_string())?,
            en: None,
        },
        location: LatLon::new(30.0 + n as f64 * 0.0001, 121.1).map_err(|e| e.to_string())?,
        address: None,
        area: AdminArea {
            township: Some(
                AreaName::parse_for("马渚镇", Field::Township).map_err(|e| e.to_string())?,
            ),
            village: None,
        },
        phone: None,
        opening_hours: None,
        services: BTreeSet::new(),
        capacity: Default::default(),
        operational: Default::default(),
        mobile: false,
        external_ids: BTreeSet::from([external.clone()]),
    };
    Ok((FacilityId::from_external(&external), facility))
}

/// A push of one new report with this id, as the PWA sends it.
pub fn push_body(id: uuid::Uuid, facility: FacilityId, wait: u32) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        r#"{{"mutations":[{{"id":"{id}","type":"load_report","recorded_at":"{now}","body":{{"facility":"{facility}","as_of":"{now}","status":"open","outpatients_today":{},"fever_patients_today":{},"wait_minutes":{wait},"doctors_on_duty":2,"stock":{{"antigen_kits":{{"level":"low","count":40}}}}}}}}]}}"#,
        60 + wait,
        wait / 3,
    )
}

/// The `q` quantile (0 to 1) of sorted latencies, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// A PostgreSQL database made for the bench and dropped after it.
pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin: &str) -> Result<Option<Self>, String> {
        let connect =
            tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(admin)).await;
        let Ok(Ok(mut conn)) = connect else {
            return Ok(None);
        };
        let name = format!("caremap_load_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        let base = admin.split('?').next().unwrap_or(admin);
        let url = match base.rfind('/') {
            Some(slash) if slash > base.find("://").map_or(0, |i| i + 2) => {
                format!("{}/{name}", &base[..slash])
            }
            _ => format!("{base}/{name}"),
        };
        Ok(Some(PgDatabase {
            admin: admin.to_owned(),
            name,
            url,
        }))
    }

    pub async fn drop_database(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
}
