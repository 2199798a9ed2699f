//! `/activity`: what operators and admins did, and who signed in, newest
//! first (admins only); refused sign-ins come as one summary a window.
//! `?show=changes` or `?show=sign-ins` narrows it.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::auth::Admin;
use crate::ui::access::{Granted, Page};

use super::widgets::{Empty, Heading, Problem, When};
use crate::auth::audit::{Entry, Show};
use crate::ui::dashboard;

/// Days of activity shown.
const DAYS: u64 = 7;

pub struct ActivityPage;

impl Page for ActivityPage {
    type Needs = Admin;
    const PATH: &'static str = "/activity";

    fn view(_granted: Granted<Admin>) -> AnyView {
        let asked = use_query_map()
            .get_untracked()
            .get("show")
            .unwrap_or_default();
        let show = Show::parse(&asked);
        view! {
        <Heading title="Activity".to_owned() subtitle=format!("Every redrive, delete, subscription and user change, and every sign-in, of the last {DAYS} days, newest first. Refused sign-ins are counted together for each quarter of an hour.")/>
        <ShowForm show=show.unwrap_or_default()/>
        {Suspend::new(async move {
            let Some(show) = show else {
                return view! { <Problem error=crate::outcome::ActionError::field("show", "Show all, changes or sign-ins.")/> }.into_any();
            };
            match dashboard().auth.audit.recent(Utc::now(), DAYS, 200, show).await {
                Ok(entries) if entries.is_empty() => view! { <Empty title="Nothing yet">"Actions of operators and admins appear here."</Empty> }.into_any(),
                Ok(entries) => activity_view(entries).into_any(),
                Err(error) => view! { <Problem error=error.into()/> }.into_any(),
            }
        })}
    }
        .into_any()
    }
}

#[component]
fn ShowForm(show: Show) -> impl IntoView {
    let option = |value: Show, label: &'static str| {
        view! { <option value=value.as_str() selected=show == value>{label}</option> }
    };
    view! {
        <form method="get" action="/activity" class="filters">
            <label for="show">"Show"</label>
            <select id="show" name="show">
                {option(Show::All, "Everything")}
                {option(Show::Changes, "Changes only")}
                {option(Show::SignIns, "Sign-ins only")}
            </select>
            <button type="submit" class="quiet">"Show"</button>
        </form>
    }
}

fn activity_view(entries: Vec<Entry>) -> impl IntoView + use<> {
    let now = Utc::now();
    view! {
        <div class="table-wrap">
            <table class="stack-on-phone">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"On"</th>
                        <th scope="col">"Outcome"</th>
                    </tr>
                </thead>
                <tbody>{entries.into_iter().map(|entry| entry_row(entry, now)).collect_view()}</tbody>
            </table>
        </div>
    }
}

fn entry_row(entry: Entry, now: DateTime<Utc>) -> impl IntoView + use<> {
    let when = DateTime::parse_from_rfc3339(&entry.at).map_or_else(
        |_| view! { <span>{entry.at.clone()}</span> }.into_any(),
        |at| view! { <When at=at.with_timezone(&Utc) now=now/> }.into_any(),
    );
    let outcome = if entry.ok() {
        view! { <span class="badge confirmed">"ok"</span> }.into_any()
    } else {
        view! { <span class="badge stored">{entry.outcome.clone()}</span> }.into_any()
    };
    let details = (!entry.details.is_empty()).then(|| {
        view! {
            <details class="small">
                <summary>"Details"</summary>
                <ul class="details">{entry.details.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}</ul>
            </details>
        }
    });
    view! {
        <tr>
            <td data-label="When">{when}</td>
            <td data-label="Who">{entry.actor.clone()}</td>
            <th scope="row" data-label="What">{entry.action.clone()}</th>
            <td data-label="On" class="small"><span class="wrap">{entry.target.clone()}</span> {details}</td>
            <td data-label="Outcome">{outcome}</td>
        </tr>
    }
}
