//! The crate's error type (for configuration, start-up and faults; request errors are HTTP
//! answers).

use std::path::PathBuf;

/// Everything that can go wrong when configuring or starting the emulator, or queueing a fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The configuration is syntactically or semantically invalid.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// The configuration file could not be read.
    #[error("cannot read emulator configuration file {path}: {source}")]
    ReadConfig {
        /// The file that was being read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was requested.
        addr: std::net::SocketAddr,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A fault given to [`RunningEmulator::add_fault`](crate::RunningEmulator::add_fault) that
    /// the emulator cannot make (the text says why); nothing was queued.
    #[error("the emulator refused the fault: {0}")]
    Fault(String),
    /// Any other I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
