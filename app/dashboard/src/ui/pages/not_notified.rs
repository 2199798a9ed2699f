//! `/not-notified`: orders stored a while ago whose email never went out
//! (notify gave up on them), with "send again", one or all.

use chrono::{Duration, Utc};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::widgets::{Confirm, Csrf, Empty, Heading, Problem, When};
use crate::auth::Operator;
use crate::resend::MAX_AT_ONCE;
use crate::ui::access::{Granted, Page};
use crate::ui::actions::ResendEmails;
use crate::ui::dashboard;

/// How long an order may wait for its email before it is listed, by default.
const DEFAULT_MINUTES: i64 = 10;

pub struct NotNotifiedPage;

impl Page for NotNotifiedPage {
    type Needs = Operator;
    const PATH: &'static str = "/not-notified";

    fn view(_granted: Granted<Operator>) -> AnyView {
        let now = Utc::now();
        let minutes = use_query_map()
            .get_untracked()
            .get("minutes")
            .and_then(|text| text.trim().parse::<i64>().ok())
            .filter(|minutes| (1..=10_000).contains(minutes))
            .unwrap_or(DEFAULT_MINUTES);
        view! {
            <Heading
                title="Not notified".to_owned()
                subtitle=format!("Orders stored more than {minutes} minutes ago whose email never went out. Sending again asks notify, which mails an order only if it was not mailed meanwhile.")
            />
            <form method="get" action="/not-notified" class="row filters">
                <label>"Stored at least this many minutes ago"
                    <input type="number" name="minutes" min="1" max="10000" value=minutes.to_string()/>
                </label>
                <button type="submit">"Show"</button>
            </form>
            {Suspend::new(async move {
                match dashboard().orders.not_notified(now - Duration::minutes(minutes), MAX_AT_ONCE).await {
                    Ok(orders) if orders.is_empty() => view! {
                        <Empty title="Every order was mailed">"No stored order is waiting for its email."</Empty>
                    }.into_any(),
                    Ok(orders) => {
                        let count = orders.len();
                        view! {
                            <form method="post" action=ResendEmails::PATH>
                                <Csrf/>
                                <div class="table-wrap">
                                    <table class="stack-on-phone">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Order"</th>
                                                <th scope="col">"Received"</th>
                                                <th scope="col">"Customer"</th>
                                                <th scope="col" class="num">"Total"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {orders.into_iter().enumerate().map(|(index, order)| view! {
                                                <tr>
                                                    <th scope="row" data-label="Order">
                                                        <input type="hidden" name=format!("ids[{index}]") value=order.id.to_string()/>
                                                        <a href=format!("/orders/{}", order.id)>{order.id.to_string()}</a>
                                                    </th>
                                                    <td data-label="Received"><When at=order.created_at now=now/></td>
                                                    <td data-label="Customer">{order.customer.name.to_string()}</td>
                                                    <td class="num" data-label="Total">{order.formatted_total()}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <div class="actions">
                                    <Confirm
                                        open=format!("Send all {count} again")
                                        on="order emails".to_owned()
                                        question=format!("Ask notify to send the emails of these {count} orders? An order mailed meanwhile is not mailed twice.")
                                        confirm="Yes, send them".to_owned()
                                    />
                                </div>
                            </form>
                        }.into_any()
                    }
                    Err(error) => view! { <Problem error=error.into()/> }.into_any(),
                }
            })}
        }
        .into_any()
    }
}
