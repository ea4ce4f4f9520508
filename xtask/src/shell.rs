//! Running programs: every command runs from the repository root, with `node_modules/.bin` and
//! Cargo's bin folder on PATH, and is echoed before it runs.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// When the task started, so each step shows how long the task has run (CI has a time limit).
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Prints a heading for a step of a task, with the minutes and seconds since the first step.
pub fn step(what: &str) {
    let elapsed = STARTED.get_or_init(Instant::now).elapsed().as_secs();
    println!("\n==> [{:02}:{:02}] {what}", elapsed / 60, elapsed % 60);
}

/// Cargo's bin folder, where `cargo install` puts Trunk and wasm-bindgen.
pub fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

fn search_path() -> OsString {
    let mut dirs = vec![crate::root().join("node_modules/.bin"), cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A command to run from the repository root.
pub struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let mut inner = Command::new(program.as_ref());
        inner.current_dir(crate::root()).env("PATH", search_path());
        Cmd {
            inner,
            shown: program.as_ref().to_string_lossy().into_owned(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.shown.push(' ');
        self.shown.push_str(&arg.as_ref().to_string_lossy());
        self.inner.arg(arg);
        self
    }

    pub fn args<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Cmd::arg)
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.inner.env(key, value);
        self
    }

    /// Runs it with inherited output; a non-zero exit is an error.
    pub fn run(mut self) -> Result<()> {
        println!("$ {}", self.shown);
        let status = self
            .inner
            .status()
            .map_err(|err| format!("could not start `{}`: {err}", self.shown))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed ({status})", self.shown).into())
        }
    }

    /// Runs it quietly and returns its standard output, or `None` if it could not run or failed.
    pub fn output(mut self) -> Option<String> {
        let out = self.inner.stderr(Stdio::null()).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts it in the background with its output inherited.
    pub fn spawn(mut self) -> Result<std::process::Child> {
        println!("$ {} &", self.shown);
        Ok(self.inner.spawn()?)
    }
}
