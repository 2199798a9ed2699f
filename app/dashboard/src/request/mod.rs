//! What every request of the dashboard carries, shared by the web layer
//! (which finds it out) and the pages (which read it): the endpoint it
//! reached, who is asking, and the one-time message it brought.

pub mod flash;

use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;

use crate::Dashboard;
use crate::auth::session::Session;
use crate::auth::{Access, CurrentUser, Role};

/// Who is asking, as the gate found out; every endpoint's request has one.
#[derive(Debug, Clone)]
pub enum Visitor {
    Anonymous,
    Signed {
        user: CurrentUser,
        session: Box<Session>,
    },
}

impl Visitor {
    pub fn user(&self) -> Option<&CurrentUser> {
        match self {
            Visitor::Anonymous => None,
            Visitor::Signed { user, .. } => Some(user),
        }
    }
}

/// A signed-in page request refused for its role: the layout shows the
/// "not allowed" page instead of the page (whose code never runs).
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    pub needs: Role,
}

/// Whether a route is a page (GET), an action (a form post) or a download (GET).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Page,
    Action,
    Download,
}

/// How the router calls a download: the visitor is checked inside.
pub type Handler = fn(Dashboard, Visitor, Request) -> BoxFuture<'static, Response>;

/// One page, action or download, with who may reach it.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Page {
        path: &'static str,
        access: Access,
    },
    Action {
        path: &'static str,
        access: Access,
        /// The page the action's form is on, where the browser comes back to.
        page: &'static str,
    },
    Download {
        path: &'static str,
        access: Access,
        serve: Handler,
    },
}

impl Endpoint {
    pub fn path(&self) -> &'static str {
        match *self {
            Endpoint::Page { path, .. }
            | Endpoint::Action { path, .. }
            | Endpoint::Download { path, .. } => path,
        }
    }

    pub fn access(&self) -> Access {
        match *self {
            Endpoint::Page { access, .. }
            | Endpoint::Action { access, .. }
            | Endpoint::Download { access, .. } => access,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Endpoint::Page { .. } => Kind::Page,
            Endpoint::Action { .. } => Kind::Action,
            Endpoint::Download { .. } => Kind::Download,
        }
    }
}
