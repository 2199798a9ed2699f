//! One error for every failed AWS call: what we tried, what kind of failure it
//! was (so callers can decide to retry) and AWS's own words.

use std::error::Error as StdError;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// Throttling or a service limit: worth retrying later.
    Throttled,
    /// The function's role may not do this: fix IAM, retrying will not help.
    AccessDenied,
    /// The queue, table or topic does not exist (wrong name or not deployed).
    NotFound,
    /// No answer: network, timeout or a service error.
    Unavailable,
    /// AWS refused the request itself (a validation error, an item over
    /// DynamoDB's size limit): the same request will never succeed.
    Rejected,
    /// What AWS returned cannot be read as what we stored (a bug or a hand edit).
    Corrupt,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{action} failed: {message}")]
pub struct AwsError {
    pub action: String,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    /// Classifies an SDK error of any operation.
    pub fn from_sdk<E>(action: impl Into<String>, error: E) -> Self
    where
        E: ProvideErrorMetadata + StdError,
    {
        let code = error.code().map(str::to_owned);
        let kind = classify(code.as_deref());
        let message = match error.message() {
            Some(message) => format!("{} ({message})", code.as_deref().unwrap_or("error")),
            None => DisplayErrorContext(&error).to_string(),
        };
        Self {
            action: action.into(),
            kind,
            code,
            message,
        }
    }

    /// Data read from AWS that does not decode as what we stored.
    pub fn corrupt(action: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self {
            action: action.into(),
            kind: AwsErrorKind::Corrupt,
            code: None,
            message: format!("the stored data cannot be read: {error}"),
        }
    }

    /// Whether trying again later may succeed (throttling, timeouts, outages).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            AwsErrorKind::Throttled | AwsErrorKind::Unavailable
        )
    }
}

/// The outcome of a conditional write: true when it was applied, false when
/// its condition did not hold.
pub fn conditional<T, E>(action: impl Into<String>, result: Result<T, E>) -> Result<bool, AwsError>
where
    E: ProvideErrorMetadata + StdError,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(error) => Err(AwsError::from_sdk(action, error)),
    }
}

fn classify(code: Option<&str>) -> AwsErrorKind {
    let Some(code) = code else {
        return AwsErrorKind::Unavailable;
    };
    let lower = code.to_ascii_lowercase();
    if lower.contains("throttl")
        || lower.contains("throughputexceeded")
        || lower.contains("limitexceeded")
        || lower.contains("requestlimit")
        || lower == "toomanyrequestsexception"
    {
        AwsErrorKind::Throttled
    } else if lower.contains("accessdenied")
        || lower.contains("authorization")
        || lower.contains("unrecognizedclient")
    {
        AwsErrorKind::AccessDenied
    } else if lower.contains("notfound")
        || lower.contains("nonexistent")
        || lower.contains("doesnotexist")
    {
        AwsErrorKind::NotFound
    } else if lower.contains("internal") || lower.contains("unavailable") {
        AwsErrorKind::Unavailable
    } else {
        AwsErrorKind::Rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(
            classify(Some("ThrottlingException")),
            AwsErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("ProvisionedThroughputExceededException")),
            AwsErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("AccessDeniedException")),
            AwsErrorKind::AccessDenied
        );
        assert_eq!(
            classify(Some("AWS.SimpleQueueService.NonExistentQueue")),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("ResourceNotFoundException")),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("InternalServerError")),
            AwsErrorKind::Unavailable
        );
        assert_eq!(classify(None), AwsErrorKind::Unavailable);
        assert_eq!(
            classify(Some("ValidationException")),
            AwsErrorKind::Rejected
        );
    }
}
