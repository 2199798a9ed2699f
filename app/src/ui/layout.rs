//! The frame around every page: header, navigation, flash message, footer.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::flash::{self, Kind};

const SECTIONS: [(&str, &str); 5] = [
    ("/", "Overview"),
    ("/orders", "Orders"),
    ("/queues", "Queues"),
    ("/dead-letters", "Dead letters"),
    ("/subscriptions", "Notifications"),
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
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <a class="brand" href="/">
                <span class="logo" aria-hidden="true">"✦"</span>
                " Orders"
            </a>
            <nav aria-label="Sections">
                <ul>
                    {SECTIONS
                        .iter()
                        .map(|(href, label)| {
                            let current = is_current(href, &path);
                            view! {
                                <li>
                                    <a href=*href aria-current=current.then_some("page")>{*label}</a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
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
