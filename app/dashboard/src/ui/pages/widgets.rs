//! Small pieces the pages share.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::format;
use domain::OrderStatus;

/// The page's `<title>` and heading.
#[component]
pub fn Heading(title: String, #[prop(optional)] subtitle: Option<String>) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Orders")/>
        <div class="heading">
            <h1>{title}</h1>
            {subtitle.map(|text| view! { <p class="muted">{text}</p> })}
        </div>
    }
}

/// A failed load, said plainly, with what to try.
#[component]
pub fn Problem(message: String) -> impl IntoView {
    view! {
        <div class="problem" role="alert">
            <h2>"This could not be loaded"</h2>
            <p>{message}</p>
            <p class="muted">"Reload the page to try again. If it keeps failing, check the function's logs and its IAM permissions."</p>
        </div>
    }
}

#[component]
pub fn Empty(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty">
            <h2>{title}</h2>
            <p>{children()}</p>
        </div>
    }
}

/// A time as readers want it: absolute (rewritten in their locale by the
/// page script) and relative.
#[component]
pub fn When(at: DateTime<Utc>, now: DateTime<Utc>) -> impl IntoView {
    view! {
        <time datetime=format::machine(at) title=format::absolute(at)>{format::absolute(at)}</time>
        " "
        <span class="muted">"(" {format::relative(at, now)} ")"</span>
    }
}

#[component]
pub fn StatusBadge(status: OrderStatus) -> impl IntoView {
    view! { <span class=format!("badge {status}")>{status.as_str()}</span> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(StatusCode::NOT_FOUND);
    }
    view! {
        <Heading title="Page not found".to_owned()/>
        <Empty title="Nothing here">
            "This address is not a page of the dashboard. Start from the "
            <a href="/">"overview"</a>
            "."
        </Empty>
    }
}

/// The session's anti-forgery token, which every form must carry.
#[component]
pub fn Csrf() -> impl IntoView {
    let token = crate::ui::access::visitor()
        .user()
        .map(|user| user.csrf.clone())
        .unwrap_or_default();
    view! { <input type="hidden" name="csrf" value=token/> }
}
