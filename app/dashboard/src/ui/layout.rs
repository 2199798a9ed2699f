//! The frame around every page: header, navigation, flash message, footer.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use leptos::server_fn::ServerFn;

use super::actions::Logout;
use super::flash::{self, Kind};
use super::pages::widgets::Csrf;
use crate::auth::role::required_role;
use crate::auth::web::current_user;

const SECTIONS: [(&str, &str); 7] = [
    ("/", "Overview"),
    ("/orders", "Orders"),
    ("/queues", "Queues"),
    ("/dead-letters", "Dead letters"),
    ("/subscriptions", "Notifications"),
    ("/users", "Users"),
    ("/activity", "Activity"),
];

fn is_current(section: &str, path: &str) -> bool {
    if section == "/" {
        path == "/"
    } else {
        path == section || path.starts_with(&format!("{section}/"))
    }
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let path = use_location().pathname.get_untracked();
    let flash = flash::take();
    let user = current_user();
    let role = user.as_ref().map(|user| user.role);
    // Only the sections this person may open.
    let sections: Vec<(&str, &str)> = SECTIONS
        .iter()
        .copied()
        .filter(|(href, _)| match (required_role(href), role) {
            (Some(needed), Some(role)) => role >= needed,
            _ => false,
        })
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
            {user.map(|user| view! {
                <form method="post" action=Logout::PATH class="who">
                    <Csrf/>
                    <span class="small">{user.email} " · " {user.role.as_str()}</span>
                    <button type="submit" class="quiet">"Sign out"</button>
                </form>
            })}
        </header>
        <main id="main">
            {flash.map(|flash| {
                let (class, role) = match flash.kind {
                    Kind::Success => ("flash ok", "status"),
                    Kind::Error => ("flash error", "alert"),
                };
                view! { <p class=class role=role>{flash.message}</p> }
            })}
            {children()}
        </main>
        <footer class="bottom">"Order backbone · dashboard"</footer>
    }
}
