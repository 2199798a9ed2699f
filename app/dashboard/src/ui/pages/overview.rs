//! `/`: how the shop and the pipeline are doing right now.

use chrono::Utc;
use leptos::prelude::*;

use super::widgets::{Heading, Problem, UnconfirmedSubscriptions};
use crate::auth::Viewer;
use crate::overview::{Health, Hour, NOT_NOTIFIED_COUNTED, Overview, Spread};
use crate::ui::access::{Granted, Page};
use crate::ui::layout::may_open;
use crate::ui::{dashboard, format};

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
                    Err(error) => view! { <Problem error=error/> }.into_any(),
                }
            })}
        }
        .into_any()
    }
}

pub fn overview_view(overview: Overview) -> impl IntoView + use<> {
    let dead = overview.dead_letter_queue.total();
    let not_notified = overview.not_notified;
    let zone = format::zone_name(overview.zone);
    let pending = overview.pending_subscriptions.len();
    let digested = overview.digested;
    let today = format::today(overview.zone);
    view! {
        // Warnings for those who can act on them: a viewer cannot manage emails.
        {may_open("/subscriptions").then(|| view! { <UnconfirmedSubscriptions pending=overview.pending_subscriptions.clone()/> })}
        <div class="cards" data-refresh="30">
            {card(format!("/orders?from={today}&to={today}"), false, view! {
                <span class="label">"Orders today"</span>
                <span class="figure">{overview.orders_today}</span>
                <span class="muted">{format!("{} in the last hour", overview.orders_last_hour)}</span>
            })}
            {card("/queues", false, view! {
                <span class="label">"Waiting in the order queue"</span>
                <span class="figure">{overview.queue.visible + overview.queue.delayed}</span>
                <span class="muted">{format!("{} being processed", overview.queue.in_flight)}</span>
            })}
            {card("/dead-letters", dead > 0, view! {
                <span class="label">"Dead letters"</span>
                <span class="figure">{dead}</span>
                <span class="muted">{if dead > 0 { "need a look: fix, redrive or delete" } else { "none: all good" }}</span>
            })}
            {card("/not-notified", not_notified > 0, view! {
                <span class="label">"Stored, email not sent"</span>
                <span class="figure">{if not_notified >= NOT_NOTIFIED_COUNTED { format!("{not_notified}+") } else { not_notified.to_string() }}</span>
                <span class="muted">{if not_notified > 0 { "for over 10 minutes: send them again" } else { "every order was mailed" }}</span>
            })}
            {overview.refused_for_prices.map(|refused| card("/dead-letters", refused > 0, view! {
                <span class="label">"Refused for their prices, today (UTC)"</span>
                <span class="figure">{refused}</span>
                <span class="muted">{if refused > 0 { "lines not at the catalog's prices: in the dead letters" } else { "every order matched the catalog" }}</span>
            }))}
            {card("/subscriptions", overview.confirmed_subscriptions == 0 || pending > 0, view! {
                <span class="label">"Order emails go to"</span>
                <span class="figure">{overview.confirmed_subscriptions}</span>
                <span class="muted">{format!("confirmed, {pending} not confirmed: they get nothing")}</span>
            })}
            {card("/orders", false, view! {
                <span class="label">"Mailed in digests, 24 hours"</span>
                <span class="figure">{digested.orders}</span>
                <span class="muted">{match digested.digests {
                    0 => "orders came slowly enough for one email each".to_owned(),
                    1 => "in 1 digest email".to_owned(),
                    n => format!("in {n} digest emails"),
                }}</span>
            })}
        </div>
        <section class="card" aria-labelledby="health">
            <h2 id="health">"Pipeline health"</h2>
            <div class="table-wrap flat">
                <table class="stack-on-phone">
                    <caption class="visually-hidden">"Orders received, stored and notified, and how long each step took"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Window"</th>
                            <th scope="col" class="num">"Received"</th>
                            <th scope="col" class="num">"Stored"</th>
                            <th scope="col" class="num">"Notified"</th>
                            <th scope="col">"Received → stored"</th>
                            <th scope="col">"Received → email"</th>
                        </tr>
                    </thead>
                    <tbody>{overview.health.into_iter().map(health_row).collect_view()}</tbody>
                </table>
            </div>
            <p class="muted small">"Times are the median, then the slowest 5 %. “Received” counts what the order queue was sent (CloudWatch) where AWS has the figure, else the orders stored plus those waiting."</p>
        </section>
        <section class="card" aria-labelledby="per-hour">
            <h2 id="per-hour">"Orders per hour, last 24 hours"</h2>
            {hourly_chart(&overview.hourly, overview.zone)}
        </section>
        <p class="muted small">{format!("Days and times are the shop's: {zone}.")}</p>
    }
}

fn spread_text(spread: Option<Spread>) -> String {
    spread.map_or_else(
        || "—".to_owned(),
        |spread| {
            format!(
                "{} · {}",
                format::elapsed(spread.median),
                format::elapsed(spread.p95)
            )
        },
    )
}

fn health_row(health: Health) -> impl IntoView {
    let received = if health.received_from_cloudwatch {
        format!("{} (CloudWatch)", health.received)
    } else {
        health.received.to_string()
    };
    let behind = health.stored.saturating_sub(health.notified);
    view! {
        <tr>
            <th scope="row" data-label="Window">{health.window}</th>
            <td class="num" data-label="Received">{received}</td>
            <td class="num" data-label="Stored">{health.stored}</td>
            <td class="num" data-label="Notified">
                {health.notified}
                {(behind > 0).then(|| view! { " " <span class="muted small">{format!("({behind} not yet)")}</span> })}
            </td>
            <td data-label="Received → stored">{spread_text(health.to_stored)}</td>
            <td data-label="Received → email">{spread_text(health.to_notified)}</td>
        </tr>
    }
}

/// A figure card, linking to its page only for those who may open it.
fn card<V: IntoView + 'static>(href: impl Into<String>, warn: bool, content: V) -> AnyView {
    let href = href.into();
    let opens = may_open(href.split('?').next().unwrap_or_default());
    // A warning is for who can act on it: a viewer sees the figure plainly.
    let class = if warn && opens {
        "card stat warn"
    } else {
        "card stat"
    };
    if opens {
        view! { <a class=class href=href>{content}</a> }.into_any()
    } else {
        view! { <div class=class>{content}</div> }.into_any()
    }
}

/// A bar chart as inline SVG, readable without JavaScript or images: each
/// hour's orders, mailed ones solid, the rest hatched; labels stay legible
/// on a phone (the chart scrolls sideways inside its box rather than shrink).
pub fn hourly_chart(hourly: &[Hour], zone: chrono_tz::Tz) -> impl IntoView + use<> {
    const SLOT: usize = 30;
    const HEIGHT: usize = 160;
    const AXIS: usize = 20;
    let width = SLOT * hourly.len().max(1);
    let busiest = hourly.iter().map(Hour::total).max().unwrap_or(0);
    // The bars' scale: a day without orders still draws an empty chart.
    let peak = busiest.max(1);
    let total: usize = hourly.iter().map(Hour::total).sum();
    let waiting: usize = hourly.iter().map(|hour| hour.not_notified).sum();
    let summary = match total {
        0 => "No orders in the last 24 hours.".to_owned(),
        1 => format!(
            "1 order in the last 24 hours, {}.",
            if waiting == 1 {
                "not mailed yet"
            } else {
                "mailed"
            }
        ),
        _ => format!(
            "{total} orders in the last 24 hours, {waiting} of them not mailed yet; the busiest hour had {busiest}."
        ),
    };
    let bars = hourly
        .iter()
        .enumerate()
        .map(|(index, hour)| {
            let scale = |count: usize| (count * (HEIGHT - AXIS - 4)) / peak;
            let notified = scale(hour.notified);
            let waiting = scale(hour.not_notified);
            let x = index * SLOT + 3;
            let local = hour.start.with_timezone(&zone);
            let tip = format!(
                "{}: {} orders, {} mailed",
                local.format("%Y-%m-%d %H:00 %Z"),
                hour.total(),
                hour.notified
            );
            view! {
                <g>
                    <title>{tip}</title>
                    <rect x=x y=HEIGHT - AXIS - notified width=SLOT - 6 height=notified.max(1) class="bar"/>
                    <rect x=x y=HEIGHT - AXIS - notified - waiting width=SLOT - 6 height=waiting class="bar waiting"/>
                    {(index % 3 == 0).then(|| view! {
                        <text x=x + (SLOT - 6) / 2 y=HEIGHT - 5 text-anchor="middle" class="axis">{local.format("%H").to_string()}</text>
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        // Focusable, so that keyboard users can scroll it on a phone.
        <div class="chart-wrap" tabindex="0" role="region" aria-label="Orders per hour">
            <svg class="chart" viewBox=format!("0 0 {width} {HEIGHT}") width=width height=HEIGHT role="img" aria-label=summary.clone()>
                <defs>
                    <pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">
                        <rect width="6" height="6" class="hatch-ground"/>
                        <rect width="3" height="6" class="hatch-line"/>
                    </pattern>
                </defs>
                {bars}
            </svg>
        </div>
        <p class="muted small">{summary} " Solid: mailed; hatched: not yet."</p>
    }
}
