//! Every page and every action of the dashboard says, beside its own
//! definition, which level it needs (`impl Page` / `impl Action`, with
//! `type Needs`), and checks it itself against the signed-in visitor of the
//! request. Only types that did so can be registered (`ENDPOINTS` below, the
//! one list the router is built from), and start-up fails if the framework
//! knows a route or server function that is not in that list. The gate in
//! front (`web::gate`) checks the same declaration first.

use std::marker::PhantomData;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::auth::{Access, Admin, CurrentUser, Level, Operator, Role, Viewer};
use crate::outcome::ActionError;
use crate::request::Visitor;

/// A level that needs someone signed in.
pub trait SignedIn: Level {}
impl SignedIn for Viewer {}
impl SignedIn for Operator {}
impl SignedIn for Admin {}

/// Proof that the visitor of this request has the level `L`: pages and
/// actions get one from `check` before they do anything.
pub struct Granted<L: Level> {
    user: Option<CurrentUser>,
    _level: PhantomData<L>,
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    SignIn,
    NotAllowed { needs: Role, role: Role },
}

impl From<Denied> for ActionError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::SignIn => ActionError::SignInFirst,
            Denied::NotAllowed { needs, role } => ActionError::NotAllowed { needs, role },
        }
    }
}

/// The visitor the gate found for this request (anonymous outside a request).
pub fn visitor() -> Visitor {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Visitor>().cloned())
        .unwrap_or(Visitor::Anonymous)
}

impl<L: Level> Granted<L> {
    /// Checks the visitor of the request being rendered.
    pub fn check() -> Result<Self, Denied> {
        Self::for_visitor(&visitor())
    }

    /// Checks a visitor the gate found.
    pub fn for_visitor(visitor: &Visitor) -> Result<Self, Denied> {
        let user = visitor.user().cloned();
        match L::ACCESS {
            Access::AtLeast(needs) => match &user {
                None => return Err(Denied::SignIn),
                Some(user) if user.role < needs => {
                    return Err(Denied::NotAllowed {
                        needs,
                        role: user.role,
                    });
                }
                Some(_) => {}
            },
            Access::Anyone => {}
        }
        Ok(Self {
            user,
            _level: PhantomData,
        })
    }

    /// The visitor, signed in or not.
    pub fn visitor(&self) -> Option<&CurrentUser> {
        self.user.as_ref()
    }
}

impl<L: SignedIn> Granted<L> {
    pub fn user(&self) -> &CurrentUser {
        self.user
            .as_ref()
            .expect("a signed-in level was checked against a signed-in visitor")
    }
}

/// A page of the dashboard.
pub trait Page: 'static {
    type Needs: Level;
    /// The route as `App` registers it, in axum's form (`/orders/{order_id}`).
    const PATH: &'static str;
    fn view(granted: Granted<Self::Needs>) -> AnyView;
}

/// An action of the dashboard: a server function that forms post to.
pub trait Action: ServerFn {
    type Needs: Level;
    /// The page the action's form is on, where the browser comes back to.
    const PAGE: &'static str;

    fn authorize() -> Result<Granted<Self::Needs>, ActionError> {
        Granted::check().map_err(ActionError::from)
    }
}
