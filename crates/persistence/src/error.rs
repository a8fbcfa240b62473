//! The one error type of this crate. Diesel's errors stay inside: callers see what went
//! wrong in domain words, and whether retrying later can help.

/// This crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a repository call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `DATABASE_URL` cannot be used; the text says how to write it.
    #[error("invalid database URL: {0}")]
    InvalidDatabaseUrl(String),
    /// The database cannot be reached (down, refusing connections, pool exhausted).
    /// Retrying later can succeed.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The thing named does not exist (in this tenant).
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with existing data (e.g. a workspace name already taken).
    #[error("{0}")]
    Conflict(String),
    /// The input breaks a rule; the text says which and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// Records of an input that cannot be applied; nothing of the input was applied.
    #[error("{}", describe_problems(.0))]
    InvalidInput(Vec<InputProblem>),
    /// The database has not been migrated to this build's schema.
    #[error("{0}")]
    SchemaOutdated(String),
    /// The request asks for something this store cannot do (e.g. filter on a computed
    /// attribute); the text says what can be done instead.
    #[error("{0}")]
    Unsupported(String),
    /// Applying the migrations failed.
    #[error("migrating the database failed: {0}")]
    Migration(String),
    /// Any other database failure. The text is for logs, not for end users.
    #[error("database error: {0}")]
    Database(String),
}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match error {
            D::NotFound => Error::NotFound("not found".into()),
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Error::Conflict(info.message().to_owned())
            }
            D::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Error::Unavailable(info.message().to_owned()),
            other => Error::Database(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable(error.to_string())
    }
}

impl From<diesel::ConnectionError> for Error {
    fn from(error: diesel::ConnectionError) -> Self {
        Error::Unavailable(error.to_string())
    }
}

/// A record the input cannot be applied with: which one (its position in the input),
/// which field, and why. Nothing of the input has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// Index of the record in the input.
    pub index: usize,
    /// The field at fault (`email`, `manager_email`, …).
    pub field: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn describe_problems(problems: &[InputProblem]) -> String {
    match problems {
        [] => "the input cannot be applied".into(),
        [only] => format!(
            "record {}, {}: {}",
            only.index + 1,
            only.field,
            only.message
        ),
        [first, rest @ ..] => format!(
            "record {}, {}: {} (and {} more problems)",
            first.index + 1,
            first.field,
            first.message,
            rest.len()
        ),
    }
}
