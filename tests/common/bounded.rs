//! The binary, run with a kill timeout: for the inputs that once made it hang (a FIFO,
//! /dev/zero, a loop of symlinks). The bound is no performance claim: it is far above
//! what a run takes, and only turns a hang into a failure that names it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Long enough for any run on a loaded machine; a run that is still going is hung.
pub const KILL_AFTER: Duration = Duration::from_secs(120);

/// What captured output may hold: a run that prints /dev/zero is stopped here too.
const OUTPUT_CAP: u64 = 16 << 20;

pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `harbor-buildkit-fn ARGS` in `dir` with `stdin` (a file, or nothing), and
/// returns how it ended; panics, naming the command, when it had to be killed.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&Path>, env: &[(&str, &str)]) -> Finished {
    let mut cmd = Command::new(super::tools::BIN);
    cmd.args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap_or_else(|e| panic!("{e}"))),
        None => cmd.stdin(Stdio::null()),
    };
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(p) = pipe {
                let mut p = p.take(OUTPUT_CAP);
                let _ = p.read_to_end(&mut text);
                // Whatever is past the cap is read and dropped, so the child never
                // blocks on a full pipe.
                let _ = std::io::copy(&mut p.into_inner(), &mut std::io::sink());
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if start.elapsed() > KILL_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let Some(status) = status else {
        panic!(
            "harbor-buildkit-fn {} did not end within {}s (killed): it hangs\nstderr: {stderr}",
            args.join(" "),
            KILL_AFTER.as_secs()
        );
    };
    Finished {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}
