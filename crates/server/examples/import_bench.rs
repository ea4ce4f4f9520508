//! Import speed for a province (issue 18; budget: 100,000 features in ≤ 20 s on the 2-core
//! machine): generates 100,000 health facilities as a GeoJSON FeatureCollection and as an Overpass
//! API answer, and imports each into a fresh database with the release server binary's CLI,
//! twice (the second import changes nothing). Prints the wall time and the peak memory the CLI
//! reports (`VmHWM`), on SQLite and then on PostgreSQL when reachable.
//!
//! ```sh
//! cargo build --release -p caremap-server
//! cargo run --release -p caremap-server --example import_bench -- [--count 100000]
//!     [--binary target/release/caremap-server] [--sqlite-only] [--postgres postgres://…]
//! ```

use sqlx::Connection as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const BUDGET_SECONDS: f64 = 20.0;

struct Options {
    count: usize,
    binary: PathBuf,
    postgres: Option<String>,
}

fn options() -> Result<Options, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        count: 100_000,
        binary: root.join("target/release/caremap-server"),
        postgres: Some(
            std::env::var("CAREMAP_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into()),
        ),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--count" => {
                options.count = value()?
                    .replace('_', "")
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or("--count: 1 to 1,000,000")?;
            }
            "--binary" => options.binary = PathBuf::from(value()?),
            "--postgres" => options.postgres = Some(value()?),
            "--sqlite-only" => options.postgres = None,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

/// Tags of facility `i`: every kind, with the tags a real export carries.
fn tags(i: usize) -> String {
    let (amenity, name) = match i % 10 {
        0 => ("hospital", format!("测试{i}号人民医院")),
        1 => ("hospital", format!("测试{i}镇中心卫生院")),
        2 => ("clinic", format!("测试{i}发热诊疗站")),
        _ => ("doctors", format!("测试{i}村卫生室")),
    };
    let extra = if i % 10 == 9 {
        r#", "healthcare": "vaccination_centre""#
    } else {
        ""
    };
    format!(
        r#""amenity": "{amenity}"{extra}, "name": "{name}", "opening_hours": "Mo-Sa 07:30-11:30,13:30-17:00", "phone": "0574-6{:07}", "addr:city": "余姚市", "addr:street": "测试路", "addr:housenumber": "{}号""#,
        i % 10_000_000,
        i % 1000 + 1
    )
}

fn position(i: usize) -> (f64, f64) {
    (
        118.0 + (i % 1000) as f64 * 0.004,
        27.0 + (i / 1000) as f64 * 0.004,
    )
}

fn write_geojson(path: &Path, count: usize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(out, "{{\"type\": \"FeatureCollection\", \"features\": [")?;
    for i in 0..count {
        let (lon, lat) = position(i);
        let comma = if i + 1 < count { "," } else { "" };
        writeln!(
            out,
            r#"{{"type": "Feature", "id": "node/{}", "properties": {{"@id": "node/{}", {}}}, "geometry": {{"type": "Point", "coordinates": [{lon:.6}, {lat:.6}]}}}}{comma}"#,
            i + 1,
            i + 1,
            tags(i)
        )?;
    }
    write!(out, "]}}")?;
    out.flush()
}

fn write_overpass(path: &Path, count: usize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(
        out,
        "{{\"version\": 0.6, \"generator\": \"import_bench\", \"elements\": ["
    )?;
    for i in 0..count {
        let (lon, lat) = position(i);
        let comma = if i + 1 < count { "," } else { "" };
        if i % 3 == 0 {
            writeln!(
                out,
                r#"{{"type": "way", "id": {}, "center": {{"lat": {lat:.6}, "lon": {lon:.6}}}, "nodes": [1, 2, 3, 4, 1], "tags": {{{}}}}}{comma}"#,
                i + 1,
                tags(i)
            )?;
        } else {
            writeln!(
                out,
                r#"{{"type": "node", "id": {}, "lat": {lat:.6}, "lon": {lon:.6}, "tags": {{{}}}}}{comma}"#,
                i + 1,
                tags(i)
            )?;
        }
    }
    write!(out, "]}}")?;
    out.flush()
}

/// Runs one CLI import: wall seconds and the CLI's last line (its time and peak memory).
fn import(binary: &Path, database: &str, file: &Path) -> Result<(f64, String, String), String> {
    let started = Instant::now();
    let output = std::process::Command::new(binary)
        .args(["import", "--database", database])
        .arg(file)
        .env_remove("DATABASE_URL")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "import failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let summary = stdout
        .lines()
        .find(|l| l.contains("added"))
        .unwrap_or_default()
        .to_owned();
    let memory = stdout
        .split("peak memory ")
        .nth(1)
        .map_or("?", |rest| rest.trim())
        .to_owned();
    Ok((seconds, summary, memory))
}

async fn bench(
    label: &str,
    database: &dyn Fn(&str) -> String,
    files: &[(&str, PathBuf)],
    options: &Options,
) -> Result<(), String> {
    for (format, file) in files {
        let url = database(format);
        for run in ["first import", "again (unchanged)"] {
            let (seconds, summary, memory) = import(&options.binary, &url, file)?;
            let counts = summary.split(": ").nth(1).unwrap_or_default().to_owned();
            println!(
                "import {} {format} features → {label}, {run}: {seconds:.1} s, peak memory {memory} ({counts}; budget ≤ {BUDGET_SECONDS:.0} s)",
                options.count
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("import_bench: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if !options.binary.exists() {
        eprintln!(
            "import_bench: no server binary at {} (cargo build --release -p caremap-server)",
            options.binary.display()
        );
        return std::process::ExitCode::FAILURE;
    }
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("import_bench: no temporary directory");
        return std::process::ExitCode::FAILURE;
    };
    let geojson = dir.path().join("province.geojson");
    let overpass = dir.path().join("province-overpass.json");
    if let Err(err) = write_geojson(&geojson, options.count)
        .and_then(|()| write_overpass(&overpass, options.count))
    {
        eprintln!("import_bench: cannot write the files: {err}");
        return std::process::ExitCode::FAILURE;
    }
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1_048_576.0;
    println!(
        "files: GeoJSON {:.1} MB, Overpass JSON {:.1} MB ({} facilities each)",
        size(&geojson),
        size(&overpass),
        options.count
    );
    let files = [("GeoJSON", geojson), ("Overpass JSON", overpass)];
    let mut failed = false;
    let sqlite = |format: &str| {
        let name = format.replace(' ', "-").to_lowercase();
        format!(
            "sqlite://{}",
            dir.path().join(format!("{name}.sqlite")).display()
        )
    };
    if let Err(err) = bench("SQLite", &sqlite, &files, &options).await {
        eprintln!("import_bench SQLite: {err}");
        failed = true;
    }
    if let Some(admin) = &options.postgres {
        match sqlx::PgConnection::connect(admin).await {
            Ok(mut conn) => {
                let names: Vec<String> = files
                    .iter()
                    .map(|_| format!("caremap_bench_{}", uuid::Uuid::new_v4().simple()))
                    .collect();
                for name in &names {
                    if let Err(err) = sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(&mut conn)
                        .await
                    {
                        eprintln!("import_bench PostgreSQL: {err}");
                        failed = true;
                    }
                }
                let base = admin.split('?').next().unwrap_or(admin);
                let base = base.rsplit_once('/').map_or(base, |(b, _)| b).to_owned();
                let url = |format: &str| {
                    let i = files.iter().position(|(f, _)| *f == format).unwrap_or(0);
                    format!("{base}/{}", names[i])
                };
                if !failed {
                    if let Err(err) = bench("PostgreSQL", &url, &files, &options).await {
                        eprintln!("import_bench PostgreSQL: {err}");
                        failed = true;
                    }
                }
                for name in &names {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            }
            Err(_) => println!("PostgreSQL is unreachable: skipped"),
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
