//! Shared test support: one runner for the `critscale` binary.
//!
//! [`critscale`] runs the binary on its arguments and returns a [`Run`]: the exit code and both
//! output streams as text, with the arguments kept for failure messages. [`command`] builds a run
//! that needs more (standard input, environment, working directory, a file as standard output, a
//! time limit).

use serde_json::Value;
use std::ffi::OsStr;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `critscale ARGS` to completion, with no input on standard input.
#[track_caller]
pub(crate) fn critscale<S: AsRef<OsStr>>(args: &[S]) -> Run {
    command(args).run()
}

/// A `critscale ARGS` invocation to be configured, then started with [`Cli::run`].
pub(crate) fn command<S: AsRef<OsStr>>(args: &[S]) -> Cli {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    Cli {
        program: env!("CARGO_BIN_EXE_critscale").into(),
        args,
        env: Vec::new(),
        cwd: None,
        stdin: None,
        stdout: None,
        stderr: None,
        close_stdout: false,
    }
}

/// A configured invocation of the binary (or of a wrapper that `exec`s it, see [`Cli::via`]).
pub(crate) struct Cli {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<std::path::PathBuf>,
    stdin: Option<Vec<u8>>,
    stdout: Option<File>,
    stderr: Option<File>,
    close_stdout: bool,
}

impl Cli {
    /// Sets an environment variable for the run.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        let value = value.as_ref().to_string_lossy().into_owned();
        self.env.push((key.to_owned(), value));
        self
    }

    /// Runs in `dir` instead of the test's working directory.
    pub(crate) fn cwd(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// Feeds `bytes` on standard input (otherwise standard input is empty).
    // No command reads standard input yet; kept so that the first one needs no second runner.
    #[allow(dead_code)]
    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Writes standard output to `file` (it is then not captured: [`Run::stdout`] is empty).
    pub(crate) fn stdout_to(mut self, file: File) -> Self {
        self.stdout = Some(file);
        self
    }

    /// Writes standard error to `file` (it is then not captured: [`Run::stderr`] is empty).
    pub(crate) fn stderr_to(mut self, file: File) -> Self {
        self.stderr = Some(file);
        self
    }

    /// Closes the reading end of standard output at once: the first write meets a closed pipe.
    pub(crate) fn close_stdout(mut self) -> Self {
        self.close_stdout = true;
        self
    }

    /// Starts the binary through `program` with `prefix` before it: `program PREFIX… critscale
    /// ARGS…` (e.g. `sh -c 'ulimit …; exec "$0" "$@"'`).
    pub(crate) fn via(mut self, program: &str, prefix: &[&str]) -> Self {
        let binary = std::mem::replace(&mut self.program, program.to_owned());
        let mut args: Vec<String> = prefix.iter().map(|&p| p.to_owned()).collect();
        args.push(binary);
        args.append(&mut self.args);
        self.args = args;
        self
    }

    /// Starts the process with pipes for the streams not redirected.
    fn spawn(self) -> (std::process::Child, Vec<String>, Option<Vec<u8>>) {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(self.stdout.map_or_else(Stdio::piped, Stdio::from));
        cmd.stderr(self.stderr.map_or_else(Stdio::piped, Stdio::from));
        let mut child = cmd.spawn().expect("the critscale binary runs");
        if self.close_stdout {
            drop(child.stdout.take());
        }
        (child, self.args, self.stdin)
    }

    /// Runs to completion.
    #[track_caller]
    pub(crate) fn run(self) -> Run {
        let (mut child, args, stdin) = self.spawn();
        let feeder = feed(&mut child, stdin);
        let output = child.wait_with_output().expect("wait for critscale");
        if let Some(feeder) = feeder {
            feeder.join().expect("stdin writer");
        }
        Run::new(args, output)
    }

    /// Runs to completion, or stops the process after `limit` and returns `None`.
    pub(crate) fn run_within(self, limit: Duration) -> Option<Run> {
        let (mut child, args, stdin) = self.spawn();
        let feeder = feed(&mut child, stdin);
        let start = Instant::now();
        loop {
            if child.try_wait().expect("wait for critscale").is_some() {
                let output = child.wait_with_output().expect("read its output");
                if let Some(feeder) = feeder {
                    let _ = feeder.join();
                }
                return Some(Run::new(args, output));
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Writes `stdin` to the child from a thread, so that a large input cannot deadlock with output.
fn feed(
    child: &mut std::process::Child,
    stdin: Option<Vec<u8>>,
) -> Option<std::thread::JoinHandle<()>> {
    let bytes = stdin?;
    let mut pipe = child.stdin.take().expect("stdin is piped");
    Some(std::thread::spawn(move || {
        use std::io::Write;
        // The binary may exit without reading everything: a broken pipe is not a test failure.
        let _ = pipe.write_all(&bytes);
    }))
}

/// A finished run: exit code (`None` when ended by a signal) and the output streams as text.
#[derive(Debug)]
pub(crate) struct Run {
    /// The arguments, for failure messages.
    pub(crate) args: Vec<String>,
    /// The exit code; `None` when the process was ended by a signal.
    pub(crate) code: Option<i32>,
    /// Standard output (critscale writes UTF-8; anything else fails the test).
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Run {
    fn new(args: Vec<String>, output: std::process::Output) -> Run {
        let text = |bytes: Vec<u8>, stream: &str| {
            String::from_utf8(bytes)
                .unwrap_or_else(|e| panic!("critscale {args:?}: {stream} is not UTF-8: {e}"))
        };
        let stdout = text(output.stdout, "stdout");
        let stderr = text(output.stderr, "stderr");
        Run {
            code: output.status.code(),
            stdout,
            stderr,
            args,
        }
    }

    /// Whether the run exited with code 0.
    pub(crate) fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Asserts exit code 0, showing the arguments and both output streams otherwise.
    #[track_caller]
    pub(crate) fn expect_success(&self) -> &Self {
        self.expect_exit(0)
    }

    /// Asserts exit code `code`, showing the arguments and both output streams otherwise.
    #[track_caller]
    pub(crate) fn expect_exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "critscale {:?}\nstdout: {}\nstderr: {}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Standard output parsed as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "critscale {:?}: stdout is not JSON ({e})\nstdout: {}\nstderr: {}",
                self.args, self.stdout, self.stderr
            )
        })
    }
}
