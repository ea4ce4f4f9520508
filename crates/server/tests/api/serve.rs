//! The `serve` command as a real process: it prints its URL, seeds the demo registry into an
//! empty database when asked, and answers.

use crate::helpers::fixture_dist;
use std::io::BufRead;
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_prints_its_url_and_seeds_an_empty_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("serve.sqlite").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["serve", "--addr", "127.0.0.1:0", "--demo-if-empty"])
        .args(["--database", &database])
        .arg("--dist")
        .arg(fixture_dist())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caremap-server");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("reader")
    .expect("a line");
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();

    let config: serde_json::Value = reqwest::get(format!("{url}/api/v1/config"))
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(config["demo"], true);
    let index = reqwest::get(format!("{url}/facility/abc"))
        .await
        .expect("request");
    assert_eq!(index.status(), 200);

    child.kill().expect("stop caremap-server");
    child.wait().expect("reap caremap-server");
}
