//! `/`: how the shop is doing right now.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::auth::Viewer;
use crate::ui::access::{Granted, Page};

use super::widgets::{Heading, Problem};
use crate::Overview;
use crate::ui::dashboard;
use crate::ui::layout::may_open;

pub struct OverviewPage;

impl Page for OverviewPage {
    type Needs = Viewer;
    const PATH: &'static str = "/";

    fn view(_granted: Granted<Viewer>) -> AnyView {
        let now = Utc::now();
        view! {
            <Heading title="Overview".to_owned()/>
            {Suspend::new(async move {
                match dashboard().overview(now).await {
                    Ok(overview) => overview_view(overview).into_any(),
                    Err(error) => view! { <Problem message=error.to_string()/> }.into_any(),
                }
            })}
        }
        .into_any()
    }
}

pub fn overview_view(overview: Overview) -> impl IntoView + use<> {
    let dead = overview.dead_letter_queue.total();
    let dead_class = if dead > 0 {
        "card stat warn"
    } else {
        "card stat"
    };
    let subscriptions_class = if overview.confirmed_subscriptions == 0 {
        "card stat warn"
    } else {
        "card stat"
    };
    view! {
        <div class="cards" data-refresh="30">
            <a class="card stat" href="/orders">
                <span class="label">"Orders today"</span>
                <span class="figure">{overview.orders_today}</span>
                <span class="muted">{format!("{} in the last hour", overview.orders_last_hour)}</span>
            </a>
            {card("/queues", "card stat", view! {
                <span class="label">"Waiting in the order queue"</span>
                <span class="figure">{overview.queue.visible + overview.queue.delayed}</span>
                <span class="muted">{format!("{} being processed", overview.queue.in_flight)}</span>
            })}
            {card("/dead-letters", dead_class, view! {
                <span class="label">"Dead letters"</span>
                <span class="figure">{dead}</span>
                <span class="muted">{if dead > 0 { "need a look: redrive or delete" } else { "none: all good" }}</span>
            })}
            {card("/subscriptions", subscriptions_class, view! {
                <span class="label">"Order emails go to"</span>
                <span class="figure">{overview.confirmed_subscriptions}</span>
                <span class="muted">
                    {format!("confirmed, {} pending confirmation", overview.pending_subscriptions)}
                </span>
            })}
        </div>
        <section class="card">
            <h2>"Orders per hour, last 24 hours"</h2>
            {hourly_chart(&overview.hourly)}
        </section>
    }
}

/// A figure card, linking to its page only for those who may open it.
fn card<V: IntoView + 'static>(href: &'static str, class: &'static str, content: V) -> AnyView {
    if may_open(href) {
        view! { <a class=class href=href>{content}</a> }.into_any()
    } else {
        view! { <div class=class>{content}</div> }.into_any()
    }
}

/// A bar chart as inline SVG: readable without JavaScript or images.
pub fn hourly_chart(hourly: &[(DateTime<Utc>, usize)]) -> impl IntoView + use<> {
    const WIDTH: usize = 720;
    const HEIGHT: usize = 160;
    const AXIS: usize = 18;
    let peak = hourly
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / hourly.len().max(1);
    let total: usize = hourly.iter().map(|(_, count)| count).sum();
    let summary = format!("{total} orders in the last 24 hours; the busiest hour had {peak}.");
    let bars = hourly
        .iter()
        .enumerate()
        .map(|(index, (hour, count))| {
            let height = (count * (HEIGHT - AXIS - 4)) / peak;
            let x = index * slot + 2;
            let y = HEIGHT - AXIS - height;
            let label = hour.format("%H").to_string();
            let tip = format!("{}: {count} orders", hour.format("%Y-%m-%d %H:00 UTC"));
            view! {
                <g>
                    <rect x=x y=y width=slot - 4 height=height.max(1) class="bar">
                        <title>{tip}</title>
                    </rect>
                    {(index % 3 == 0).then(|| view! {
                        <text x=x + (slot - 4) / 2 y=HEIGHT - 4 text-anchor="middle" class="axis">{label}</text>
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary.clone()>
            {bars}
        </svg>
        <p class="muted small">{summary} " Hours in UTC."</p>
    }
}
