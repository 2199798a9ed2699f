//! Small pieces the pages share.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::OrderStatus;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::outcome::ActionError;
use crate::request::flash;
use crate::ui::format;

/// The page's `<title>` and heading. leptos_meta writes the title's text
/// as it is, so it is escaped here, the one place a page sets it.
#[component]
pub fn Heading(title: String, #[prop(optional)] subtitle: Option<String>) -> impl IntoView {
    let escaped = html_escape::encode_text(&format!("{title} · Orders")).into_owned();
    view! {
        <Title text=escaped/>
        <div class="heading">
            <h1>{title}</h1>
            {subtitle.map(|text| view! { <p class="muted">{text}</p> })}
        </div>
    }
}

/// A load that failed, said so that a staff member knows what to do: a
/// mistake in the address is theirs to fix; AWS trouble is ops'.
#[component]
pub fn Problem(error: ActionError) -> impl IntoView {
    let (title, advice) = match &error {
        ActionError::Invalid { .. } | ActionError::Unreadable(_) | ActionError::NotFound(_) => (
            "Check what was asked for",
            "Change the address or the form and try again.",
        ),
        _ => (
            "This could not be loaded just now",
            "Reload the page in a moment. If it keeps happening, tell ops: the details are in the dashboard's log.",
        ),
    };
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    view! {
        <div class="problem" role="alert">
            <h2>{title}</h2>
            <p>{error.to_string()}</p>
            <p class="small">{advice}</p>
        </div>
    }
}

/// Said loudly wherever the order emails are shown: addresses whose
/// subscription is not confirmed get no order email, and SNS also puts a
/// confirmed one back to pending when it got more than 10 messages in one
/// second. Nothing when every subscription is confirmed.
#[component]
pub fn UnconfirmedSubscriptions(pending: Vec<String>) -> impl IntoView {
    (!pending.is_empty()).then(|| {
        let count = pending.len();
        view! {
            <div class="problem" role="alert">
                <h2>{if count == 1 { "1 address gets no order emails".to_owned() } else { format!("{count} addresses get no order emails") }}</h2>
                <p>{format!("Not confirmed: {}.", pending.join(", "))}</p>
                <p class="small">
                    "Either the address never followed SNS's confirmation link, or SNS suspended it for getting more than 10 messages in one second (it then deletes it after 48 hours unless it is confirmed again). "
                    "Ask the owner to follow the link in SNS's latest email; if it is lost, remove the address and add it again. The order topic sends at most its configured rate, below that limit, so a suspension means something else published to it: tell ops."
                </p>
            </div>
        }
    })
}

/// A multi-line box for editing text a client sent (a dead letter's body).
/// Leptos writes a `<textarea>`'s children unescaped, as it does a
/// script's, so `</textarea>` in the text would end the box and the rest
/// would become markup: the text is escaped here, once, for every such box.
#[component]
pub fn TextBox(
    id: &'static str,
    name: &'static str,
    rows: u16,
    text: String,
    /// The id of what describes a problem with the text, if there is one.
    problem: Option<&'static str>,
) -> impl IntoView {
    // The HTML parser drops a newline right after `<textarea>`: keep the text's own.
    let leading = if text.starts_with('\n') { "\n" } else { "" };
    let escaped = format!("{leading}{}", html_escape::encode_text(&text));
    view! {
        <textarea id=id name=name rows=rows spellcheck="false"
            aria-invalid=problem.map(|_| "true") aria-describedby=problem
            inner_html=escaped></textarea>
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

/// A time in the shop's time zone, and how long ago.
#[component]
pub fn When(at: DateTime<Utc>, now: DateTime<Utc>) -> impl IntoView {
    view! {
        <time datetime=format::machine(at)>{format::absolute(at)}</time>
        " "
        <span class="muted small">"(" {format::relative(at, now)} ")"</span>
    }
}

#[component]
pub fn StatusBadge(status: OrderStatus) -> impl IntoView {
    let text = match status {
        OrderStatus::Received => "received",
        OrderStatus::Stored => "stored, not notified",
        OrderStatus::Notified => "notified",
    };
    view! { <span class=format!("badge {status}")>{text}</span> }
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

/// What the failed post to `action` held in a field, to fill it in again.
pub fn kept(action: &str, field: &str) -> Option<String> {
    flash::of_form(action).and_then(|flash| flash.input(field).map(str::to_owned))
}

/// The problem the last post to `action` had with a field, under it, tied
/// to it for screen readers (`aria-describedby` names `<field>-problem`).
#[component]
pub fn FieldProblem(action: &'static str, field: &'static str) -> impl IntoView {
    let problem = flash::of_form(action).and_then(|flash| flash.field(field).map(str::to_owned));
    problem.map(
        |text| view! { <span class="field-problem" id=format!("{field}-problem")>{text}</span> },
    )
}

/// The id of the field's problem (`aria-describedby`), when it has one.
pub fn problem_id(action: &str, field: &'static str) -> Option<String> {
    invalid(action, field).map(|_| format!("{field}-problem"))
}

/// Whether the last post to `action` had a problem with a field (`aria-invalid`).
pub fn invalid(action: &str, field: &str) -> Option<&'static str> {
    flash::of_form(action)
        .is_some_and(|flash| flash.field(field).is_some())
        .then_some("true")
}

/// An action behind a confirmation that works without JavaScript: the
/// button opens it, it says what will happen, and offers the action and
/// Cancel. With JavaScript the confirm button takes focus and Esc closes it.
/// The buttons' accessible names say on what (`Remove ops@example.com…`)
/// and start with their visible text, for speech input.
#[component]
pub fn Confirm(
    /// What the opening button says (`Remove`).
    open: String,
    /// On what, read by screen readers after the button's text
    /// (`ops@example.com`).
    on: String,
    question: String,
    /// What the confirming button says (`Yes, remove`).
    confirm: String,
    #[prop(optional)] danger: bool,
    /// Where the confirming button posts, when not to its form's action.
    #[prop(optional)]
    formaction: Option<&'static str>,
) -> impl IntoView {
    let class = if danger { "button danger" } else { "button" };
    let button_class = if danger { "danger" } else { "" };
    // Without JavaScript, Cancel reloads the page, which closes the box.
    let back = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.uri.path_and_query().map(ToString::to_string))
        .unwrap_or_else(|| "/".to_owned());
    let hidden_on = format!(" {on}");
    view! {
        <details class="confirm">
            <summary class=class>{open}<span class="visually-hidden">{hidden_on.clone()}</span>"…"</summary>
            <div class="confirm-box" role="group" aria-label=question.clone()>
                <p>{question.clone()}</p>
                <button type="submit" class=button_class formaction=formaction>{confirm}<span class="visually-hidden">{hidden_on}</span></button>
                " "
                <a class="button quiet cancel" href=back>"Cancel"</a>
            </div>
        </details>
    }
}
