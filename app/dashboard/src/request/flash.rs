//! The one-time message an action leaves for the page it redirects to: what
//! happened, or what went wrong with the fields at fault and what was typed
//! (never passwords), so a failed form comes back as it was sent. It travels
//! in a private cookie (`web::cookies`); the page reads it from the request.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub kind: Kind,
    pub message: String,
    /// Problems by form field name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
    /// What the failed form held, by field name, to fill it in again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<(String, String)>,
    /// The action the failed form posted to: a page with several forms
    /// fills in only that one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub form: String,
}

impl Flash {
    pub fn success(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Success,
            message: message.into(),
            fields: Vec::new(),
            input: Vec::new(),
            form: String::new(),
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Error,
            message: message.into(),
            fields: Vec::new(),
            input: Vec::new(),
            form: String::new(),
        }
    }

    /// The flash of a failed post to `action`, if this is one.
    pub fn of_form(self, action: &str) -> Option<Self> {
        (self.form == action).then_some(self)
    }

    /// The problem with one field, if any.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, problem)| problem.as_str())
    }

    /// What was typed into one field of the failed form, if kept.
    pub fn input(&self, name: &str) -> Option<&str> {
        self.input
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The flash of this request if it is a failed post to `action`.
pub fn of_form(action: &str) -> Option<Flash> {
    current()?.of_form(action)
}

/// The element id of the message a page shows, for the fields it is about
/// (`aria-describedby`).
pub const MESSAGE_ID: &str = "flash-message";

/// The flash message of this request, if it brought one.
pub fn current() -> Option<Flash> {
    leptos::prelude::use_context::<axum::http::request::Parts>()?
        .extensions
        .get::<Flash>()
        .cloned()
}
