//! `/activity`: what operators and admins did, newest first (admins only).

use chrono::Utc;
use leptos::prelude::*;

use crate::auth::Admin;
use crate::ui::access::{Granted, Page};

use super::widgets::{Empty, Heading, Problem};
use crate::auth::audit::Entry;
use crate::ui::dashboard;

/// Days of activity shown.
const DAYS: u64 = 7;

pub struct ActivityPage;

impl Page for ActivityPage {
    type Needs = Admin;
    const PATH: &'static str = "/activity";

    fn view(_granted: Granted<Admin>) -> AnyView {
        view! {
        <Heading title="Activity".to_owned() subtitle=format!("Every redrive, delete, subscription and user change of the last {DAYS} days, newest first.")/>
        {Suspend::new(async move {
            match dashboard().auth.audit.recent(Utc::now(), DAYS, 200).await {
                Ok(entries) if entries.is_empty() => view! { <Empty title="Nothing yet">"Actions of operators and admins appear here."</Empty> }.into_any(),
                Ok(entries) => activity_view(entries).into_any(),
                Err(error) => view! { <Problem message=error.to_string()/> }.into_any(),
            }
        })}
    }
        .into_any()
    }
}

fn activity_view(entries: Vec<Entry>) -> impl IntoView + use<> {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"On"</th>
                        <th scope="col">"Outcome"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|entry| {
                            let ok = entry.outcome == "ok";
                            view! {
                                <tr>
                                    <td><time datetime=entry.at.clone()>{entry.at.replace('T', " ").trim_end_matches('Z').to_owned()} " UTC"</time></td>
                                    <td>{entry.actor}</td>
                                    <td>{entry.action}</td>
                                    <td class="small">{entry.target}</td>
                                    <td>{if ok { view! { <span class="badge confirmed">"ok"</span> }.into_any() } else { view! { <span class="badge stored">{entry.outcome}</span> }.into_any() }}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
