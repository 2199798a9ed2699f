//! What a dashboard action returns: `Done` (what happened, where to go next)
//! or an `ActionError` that says what went wrong and what to do, with an
//! HTTP status. The web layer turns either into a redirect with a flash
//! message for a form, or JSON with the status for a script.

use axum::http::StatusCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use pipeline::aws::{AwsError, AwsErrorKind};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::auth::session::Session;

/// The result of an action that is recorded in the activity log, and
/// whether recording it worked (an action says so when it did not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited<T> {
    pub value: T,
    pub recorded: bool,
}

impl<T> Audited<T> {
    /// What to add to the action's message when the log could not be written.
    pub fn note(&self) -> &'static str {
        if self.recorded {
            ""
        } else {
            " (This could not be recorded in the activity log; tell an admin.)"
        }
    }
}

/// What a successful action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub message: String,
    /// Where the browser goes next; the action's own page when `None`.
    pub go_to: Option<String>,
    /// A session to start (sign-in) or end (sign-out); never sent to the client.
    pub session: SessionChange,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionChange {
    #[default]
    Keep,
    Start(Session),
    End,
}

impl Done {
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            go_to: None,
            session: SessionChange::Keep,
        }
    }

    pub fn go_to(mut self, path: impl Into<String>) -> Self {
        self.go_to = Some(path.into());
        self
    }
}

/// One problem with one form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ActionError {
    /// The form is wrong: fix the fields named.
    #[error("{message}")]
    Invalid {
        message: String,
        fields: Vec<FieldProblem>,
    },
    #[error("Sign in first.")]
    SignInFirst,
    /// The email and password did not open a session (wrong, locked, paused).
    #[error("{0}")]
    SignInFailed(String),
    #[error("This needs the {needs} role; you are signed in as {role}.")]
    NotAllowed { needs: Role, role: Role },
    #[error("{0}")]
    NotFound(String),
    /// A rule of the dashboard says no (e.g. disabling yourself).
    #[error("{0}")]
    Refused(String),
    /// AWS did not do what was asked; the detail went to the log.
    #[error("{what} did not work: {reason} {advice}")]
    Unavailable {
        what: String,
        reason: String,
        advice: String,
    },
    /// The request itself could not be read (a forged or broken form).
    #[error("The form could not be read ({0}). Reload the page and try again.")]
    Unreadable(String),
}

impl ActionError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Invalid {
            message: message.clone(),
            fields: vec![FieldProblem {
                field: field.to_owned(),
                message,
            }],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ActionError::Invalid { .. } | ActionError::Unreadable(_) => StatusCode::BAD_REQUEST,
            ActionError::SignInFirst | ActionError::SignInFailed(_) => StatusCode::UNAUTHORIZED,
            ActionError::NotAllowed { .. } => StatusCode::FORBIDDEN,
            ActionError::NotFound(_) => StatusCode::NOT_FOUND,
            ActionError::Refused(_) => StatusCode::CONFLICT,
            ActionError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An AWS failure in words a staff member can act on; the whole error is
/// logged for the operator.
impl From<AwsError> for ActionError {
    fn from(error: AwsError) -> Self {
        tracing::error!(%error, kind = ?error.kind, code = ?error.code, "an AWS call of a dashboard action failed");
        let (reason, advice) = match error.kind {
            AwsErrorKind::Throttled => ("AWS is busy just now.", "Wait a minute and try again."),
            AwsErrorKind::Unavailable => (
                "AWS did not answer in time.",
                "Try again in a moment; if it keeps failing, tell ops.",
            ),
            AwsErrorKind::AccessDenied => (
                "the dashboard is not allowed to do this.",
                "Tell ops: the dashboard function's IAM role needs fixing (see its log).",
            ),
            AwsErrorKind::NotFound => (
                "the queue, table or topic it needs does not exist.",
                "Tell ops: the deployment is incomplete (see the dashboard function's log).",
            ),
            AwsErrorKind::Rejected | AwsErrorKind::Corrupt => (
                "AWS refused the request.",
                "Tell ops; the dashboard function's log has the details.",
            ),
        };
        ActionError::Unavailable {
            what: sentence_case(&error.action),
            reason: reason.to_owned(),
            advice: advice.to_owned(),
        }
    }
}

fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl FromServerFnError for ActionError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                ActionError::Unreadable(detail)
            }
            other => ActionError::Unreadable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_failures_read_plainly() {
        let error = ActionError::from(AwsError {
            action: "reading queue shop-orders".to_owned(),
            kind: AwsErrorKind::AccessDenied,
            code: Some("AccessDenied".to_owned()),
            message: "not authorized".to_owned(),
        });
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = error.to_string();
        assert!(
            text.starts_with("Reading queue shop-orders did not work"),
            "{text}"
        );
        assert!(text.contains("IAM role"), "{text}");
        assert!(
            !text.contains("not authorized"),
            "AWS's words stay in the log"
        );
    }
}
