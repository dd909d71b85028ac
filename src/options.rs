//! The error every subcommand reports for a bad option: one line, exit code 2.

/// A command-line option with a value outside its domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value '{value}' for --{flag}: {requirement}")]
pub struct BadOption {
    /// The flag without dashes.
    pub flag: &'static str,
    /// The text given.
    pub value: String,
    /// What is valid.
    pub requirement: String,
}

impl BadOption {
    /// A bad value for `--flag`.
    pub fn new(
        flag: &'static str,
        value: impl Into<String>,
        requirement: impl Into<String>,
    ) -> Self {
        BadOption {
            flag,
            value: value.into(),
            requirement: requirement.into(),
        }
    }
}
