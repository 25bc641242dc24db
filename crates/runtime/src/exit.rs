//! Exit codes, documented in the README; schedulers and alarms key on them.

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Success. Quarantined records are data, not failure.
    Success,
    /// The run failed; nothing was committed.
    Failure,
    /// Bad flags, configuration or schemas.
    Usage,
    /// The run committed, but its quarantine rate is above `--max-quarantine-rate`.
    QualityThreshold,
    /// Another run holds the lease for this unit of work (`EX_TEMPFAIL`).
    LeaseHeld,
    /// Stopped by a shutdown signal (SIGTERM, SIGINT): 128 + its number, leases given up.
    Interrupted { signal: i32 },
}

impl ExitCode {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failure => 1,
            ExitCode::Usage => 2,
            ExitCode::QualityThreshold => 3,
            ExitCode::LeaseHeld => 75,
            ExitCode::Interrupted { signal } => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        }
    }

    /// The more severe of two outcomes, for runs over ranges.
    pub fn worst(self, other: ExitCode) -> ExitCode {
        let rank = |c: ExitCode| match c {
            ExitCode::Success => 0,
            ExitCode::QualityThreshold => 1,
            ExitCode::LeaseHeld => 2,
            ExitCode::Failure => 3,
            ExitCode::Usage => 4,
            ExitCode::Interrupted { .. } => 5,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.code())
    }
}
