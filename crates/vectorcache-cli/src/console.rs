//! Printing that survives a reader that went away. `vectorcache query ... | head -c 10` closes
//! stdout early; Rust ignores SIGPIPE, so the next write fails with EPIPE, and `println!`
//! panics on that (exit 101, a backtrace). These lines end the process quietly instead.

use std::fmt;
use std::io::{self, Write};

use crate::exit;

/// `println!` for the CLI's output: a closed stdout ends the process quietly (see [`stop`]).
macro_rules! outln {
    () => {
        $crate::console::out(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::console::out(format_args!($($arg)*))
    };
}

/// `eprintln!` for the CLI's messages: a closed stderr ends the process quietly too.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::console::err(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};

/// Writes one line to stdout.
pub fn out(line: fmt::Arguments<'_>) {
    // (The lock is released before `stop`, whose exit flushes stdout.)
    let written = writeln!(io::stdout().lock(), "{line}");
    if let Err(error) = written {
        stop(error);
    }
}

/// Writes one line to stderr.
pub fn err(line: fmt::Arguments<'_>) {
    let written = writeln!(io::stderr().lock(), "{line}");
    if let Err(error) = written {
        stop(error);
    }
}

/// Ends the process after a failed write to stdout or stderr. A closed pipe is the reader's
/// choice (`head` has what it wanted): no message, and the status a shell reports for a Unix
/// tool that SIGPIPE ended, so `set -o pipefail` never takes a cut-off run for a whole one.
/// Any other failure (a full disk) is said on stderr if that still works.
fn stop(error: io::Error) -> ! {
    if error.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(exit::CLOSED_PIPE.into());
    }
    let _ = writeln!(io::stderr(), "error: cannot write the output: {error}");
    std::process::exit(exit::FAILURE.into());
}
