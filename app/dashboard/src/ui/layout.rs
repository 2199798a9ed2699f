//! The frame around every page: header, navigation, the one-time message,
//! footer. A page the gate refused for its role is replaced here by the
//! "not allowed" page, so its code never runs.

use axum::http::StatusCode;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

use super::ENDPOINTS;
use super::access::visitor;
use super::actions::Logout;
use super::pages::widgets::{Csrf, Empty, Heading};
use crate::auth::{Access, Role};
use crate::request::flash::{self, Kind};
use crate::request::{Endpoint, Refused};

const SECTIONS: [(&str, &str); 8] = [
    ("/", "Overview"),
    ("/orders", "Orders"),
    ("/queues", "Queues"),
    ("/dead-letters", "Dead letters"),
    ("/subscriptions", "Notifications"),
    ("/products", "Products"),
    ("/users", "Users"),
    ("/activity", "Activity"),
];

/// Who may open a page, from its declaration.
pub fn page_access(path: &str) -> Option<Access> {
    ENDPOINTS
        .iter()
        .find(|endpoint| matches!(endpoint, Endpoint::Page { path: page, .. } if *page == path))
        .map(Endpoint::access)
}

/// Whether the visitor of this request may open the page at `path`.
pub fn may_open(path: &str) -> bool {
    let role = visitor().user().map(|user| user.role);
    page_access(path).is_some_and(|access| access.admits(role))
}

fn is_current(section: &str, path: &str) -> bool {
    if section == "/" {
        path == "/"
    } else {
        path == section || path.starts_with(&format!("{section}/"))
    }
}

/// The page shown instead of one the visitor's role may not open.
pub fn not_allowed(needs: Role) -> impl IntoView {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(StatusCode::FORBIDDEN);
    }
    let role = visitor().user().map(|user| user.role);
    let you = match role {
        Some(role) => format!("You are signed in as {role} ({})", role.describe()),
        None => "You are not signed in".to_owned(),
    };
    view! {
        <Heading title="Not allowed".to_owned()/>
        <Empty title="This page needs another role">
            {format!("It needs the {needs} role. {you}. Ask an admin if you need it. ")}
            <a href="/">"Go to the overview"</a>
        </Empty>
    }
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let path = use_location().pathname.get_untracked();
    let flash = flash::current();
    let visitor = visitor();
    let refused = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Refused>().copied());
    let sections: Vec<(&str, &str)> = SECTIONS
        .iter()
        .copied()
        .filter(|(href, _)| visitor.user().is_some() && may_open(href))
        .collect();
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <a class="brand" href="/">
                <span class="logo" aria-hidden="true">"✦"</span>
                " Orders"
            </a>
            <nav aria-label="Sections">
                <ul>
                    {sections
                        .into_iter()
                        .map(|(href, label)| {
                            let current = is_current(href, &path);
                            view! {
                                <li>
                                    <a href=href aria-current=current.then_some("page")>{label}</a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            {visitor.user().cloned().map(|user| view! {
                <form method="post" action=Logout::PATH class="who">
                    <Csrf/>
                    <span class="small">{user.email} " · " {user.role.as_str()}</span>
                    <button type="submit" class="quiet">"Sign out"</button>
                </form>
            })}
        </header>
        <main id="main">
            <div class="flash-region" role="status" aria-live="polite">
                {flash.map(|flash| {
                    let class = match flash.kind {
                        Kind::Success => "flash ok",
                        Kind::Error => "flash error",
                    };
                    view! { <p class=class id=flash::MESSAGE_ID>{flash.message}</p> }
                })}
            </div>
            {match refused {
                Some(Refused { needs }) => not_allowed(needs).into_any(),
                None => children().into_any(),
            }}
        </main>
        <footer class="bottom">"Order backbone · dashboard"</footer>
    }
}
