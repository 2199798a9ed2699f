//! `/orders/{orderId}`: everything about one order.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::auth::Viewer;
use crate::ui::access::{Granted, Page};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::widgets::{Csrf, Empty, Heading, Problem, StatusBadge, When};
use crate::outcome::ActionError;
use crate::ui::actions::ResendEmails;
use crate::ui::layout::may_open;
use crate::ui::{dashboard, format};
use domain::{Order, OrderId};
use leptos::server_fn::ServerFn;
use pipeline::store::OrderItem;

pub async fn load(id: &str) -> Result<Option<Order>, ActionError> {
    let Ok(id) = OrderId::parse(id) else {
        return Ok(None);
    };
    Ok(dashboard().orders.get(&id).await?)
}

pub struct OrderPage;

impl Page for OrderPage {
    type Needs = Viewer;
    const PATH: &'static str = "/orders/{order_id}";

    fn view(_granted: Granted<Viewer>) -> AnyView {
        let id = use_params_map()
            .get_untracked()
            .get("order_id")
            .unwrap_or_default();
        let now = Utc::now();
        let back =
            super::orders::back_to_listing(use_query_map().get_untracked().get("back").as_deref());
        Suspend::new(async move {
        match load(&id).await {
            Ok(Some(order)) => order_view(order, now, back).into_any(),
            Ok(None) => {
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(axum::http::StatusCode::NOT_FOUND);
                }
                view! {
                    <Heading title="Order not found".to_owned()/>
                    <Empty title="No such order">
                        "There is no order with the id “" {id} "”. " <a href="/orders">"Back to the orders"</a>
                    </Empty>
                }
                .into_any()
            }
            Err(error) => {
                view! { <Heading title=format!("Order {id}")/> <Problem error=error/> }
                    .into_any()
            }
        }
    })
        .into_any()
    }
}

fn step(
    label: &'static str,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    detail: Option<String>,
) -> impl IntoView + use<> {
    let done = at.is_some();
    view! {
        <li class:done=done>
            <strong>{label}</strong>
            " "
            {match at {
                Some(at) => view! { <When at=at now=now/> }.into_any(),
                None => view! { <span class="muted">"not yet"</span> }.into_any(),
            }}
            {detail.map(|text| view! { <br/><span class="muted small">{text}</span> })}
        </li>
    }
}

pub fn order_view(order: Order, now: DateTime<Utc>, back: String) -> impl IntoView + use<> {
    let raw = serde_json::to_string_pretty(&OrderItem::from_order(&order)).unwrap_or_default();
    let currency = order.currency;
    let status = order.status();
    let total = order.formatted_total();
    let notified_at = order.notified.as_ref().map(|n| n.at);
    let message_id = order.notified.as_ref().map(|n| match n.digest_of {
        Some(orders) => format!(
            "in a digest of {orders} orders, SNS message {}",
            n.message_id
        ),
        None => format!("its own email, SNS message {}", n.message_id),
    });
    view! {
        <Heading title=format!("Order {}", order.id) subtitle=format!("{} · {}", total, format::absolute(order.created_at))/>
        <p><a href=back.clone()>{if back == "/orders" { "← All orders" } else { "← Back to the list" }}</a></p>
        <div class="cards">
            <section class="card">
                <h2>"Status"</h2>
                <p><StatusBadge status=status/></p>
                <ol class="timeline">
                    {step("Received", Some(order.created_at), now, Some("accepted by the order API".to_owned()))}
                    {step("Stored", Some(order.stored_at), now, Some("written to the orders table by ingest".to_owned()))}
                    {step("Notified", notified_at, now, message_id)}
                </ol>
                {(notified_at.is_none() && may_open("/not-notified")).then(|| view! {
                    <form method="post" action=ResendEmails::PATH class="row">
                        <Csrf/>
                        <input type="hidden" name="ids[0]" value=order.id.to_string()/>
                        <button type="submit">"Send the email now"</button>
                        <span class="muted small">"notify sends it, unless it went out meanwhile"</span>
                    </form>
                })}
            </section>
            <section class="card">
                <h2>"Customer"</h2>
                <p>{order.customer.name.to_string()}<br/>
                    <a href=format!("mailto:{}", order.customer.email)>{order.customer.email.to_string()}</a></p>
                <p><a href=format!("/orders?{}", serde_urlencoded::to_string([("q", order.customer.email.as_str())]).unwrap_or_default())>"All their orders"</a></p>
            </section>
            <section class="card">
                <h2>"Ship to"</h2>
                {match order.shipping_address.clone() {
                    Some(address) => view! {
                        <address>
                            {address.line1.to_string()}<br/>
                            {address.line2.map(|line| view! { {line.to_string()}<br/> })}
                            {address.city.to_string()}
                            {address.region.map(|region| format!(", {region}"))}
                            " " {address.postal_code.to_string()}<br/>
                            {address.country.as_str().to_owned()}
                        </address>
                    }
                    .into_any(),
                    None => view! { <p class="muted">"No shipping address (pick-up or digital)."</p> }.into_any(),
                }}
            </section>
        </div>
        <section>
            <h2>"Lines"</h2>
            <div class="table-wrap">
                <table class="stack-on-phone">
                    <thead>
                        <tr>
                            <th scope="col">"SKU"</th>
                            <th scope="col">"Product"</th>
                            <th scope="col" class="num">"Quantity"</th>
                            <th scope="col" class="num">"Unit price"</th>
                            <th scope="col" class="num">"Subtotal"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {order
                            .items
                            .iter()
                            .map(|line| {
                                view! {
                                    <tr>
                                        <td data-label="SKU"><code>{line.sku.to_string()}</code></td>
                                        <td data-label="Product">{line.name.to_string()}</td>
                                        <td class="num" data-label="Quantity">{line.quantity.get()}</td>
                                        <td class="num" data-label="Unit price">{line.unit_price.format(currency)}</td>
                                        <td class="num" data-label="Subtotal">{line.subtotal().format(currency)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                    <tfoot>
                        <tr>
                            <th scope="row" colspan="4" class="num">"Total"</th>
                            <td class="num" data-label="Total"><strong>{total.clone()}</strong></td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </section>
        <details class="raw">
            <summary>"Stored item (JSON)"</summary>
            <pre><code>{raw}</code></pre>
        </details>
    }
}
