//! Writing the output can fail: a full device, a reader that closed the pipe, an unwritable
//! stderr. None of these may panic (exit 101): a write error is one line and exit 1, a closed
//! pipe ends quietly with the command's own status.

use super::support::command;
use std::fs::File;

const EVAL: &[&str] = &["eval", "--n", "1e6", "--rho", "0.3", "--gamma", "crit"];
const SCHEMES: &[&str] = &["schemes", "--json"];

fn dev_full() -> Option<File> {
    File::options().write(true).open("/dev/full").ok()
}

#[test]
fn a_full_stdout_is_an_io_error_with_exit_1() {
    let Some(full) = dev_full() else {
        eprintln!("no /dev/full on this system: skipped");
        return;
    };
    for args in [
        EVAL,
        SCHEMES,
        &["--help"],
        &["--version"],
        &["eval", "--help"],
    ] {
        let out = command(args).stdout_to(full.try_clone().unwrap()).run();
        let stderr = &out.stderr;
        out.expect_exit(1);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write the output"), "{stderr}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_commands_status() {
    for args in [EVAL, SCHEMES] {
        // Close the reading end before the command writes: its first write meets a closed pipe.
        let out = command(args).close_stdout().run();
        let stderr = &out.stderr;
        out.expect_success();
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unwritable_stderr_does_not_panic() {
    let Some(full) = dev_full() else {
        eprintln!("no /dev/full on this system: skipped");
        return;
    };
    // Bad input writes its one line to stderr; with stderr full it still exits 2, not 101.
    let out = command(&["eval", "--n", "1", "--rho", "0.3", "--gamma", "1"])
        .stderr_to(full)
        .run();
    out.expect_exit(2);
}
