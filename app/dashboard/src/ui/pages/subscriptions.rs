//! `/subscriptions`: who gets the order emails, and how to change that.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::widgets::{Csrf, Empty, Heading, Problem};
use crate::ui::actions::{
    AddSubscription, RemoveSubscription, SendTestNotification, SetSubscriptionFilter,
};
use crate::ui::dashboard;
use crate::{EmailSubscription, SubscriptionStatus};
use domain::Currency;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    view! {
        <Heading
            title="Notifications".to_owned()
            subtitle="Every address here gets an email for each new order (or each order above its minimum).".to_owned()
        />
        {Suspend::new(async move {
            match dashboard().subscriptions.list().await {
                Ok(subscriptions) => subscriptions_view(subscriptions).into_any(),
                Err(error) => view! { <Problem message=error.to_string()/> }.into_any(),
            }
        })}
    }
}

pub fn subscriptions_view(subscriptions: Vec<EmailSubscription>) -> impl IntoView + use<> {
    view! {
        <section class="card">
            <h2>"Add an address"</h2>
            <form method="post" action=AddSubscription::PATH class="row">
                <Csrf/>
                <label>
                    "Email address"
                    <input type="email" name="email" required=true autocomplete="email" placeholder="orders@example.com"/>
                </label>
                <button type="submit">"Subscribe"</button>
            </form>
            <p class="muted small">
                "AWS then emails that address a confirmation link. Until it is followed, the address shows as pending and gets no order emails; an unconfirmed request expires after three days."
            </p>
        </section>
        {if subscriptions.is_empty() {
            view! {
                <Empty title="Nobody gets order emails">
                    "Add an address above so that someone hears about new orders."
                </Empty>
            }
            .into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">"Address"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Which orders"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>{subscriptions.into_iter().map(subscription_row).collect_view()}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
        <section class="card">
            <h2>"Test"</h2>
            <form method="post" action=SendTestNotification::PATH class="row">
                <Csrf/>
                <button type="submit">"Send a test notification"</button>
            </form>
            <p class="muted small">"Sends a sample email to every confirmed address without a minimum total."</p>
        </section>
    }
}

fn subscription_row(subscription: EmailSubscription) -> impl IntoView + use<> {
    let email = subscription.email.clone();
    let minimum = subscription
        .min_total
        .map(|amount| {
            amount
                .format(Currency::Usd)
                .trim_start_matches("USD ")
                .to_owned()
        })
        .unwrap_or_default();
    let which = if minimum.is_empty() {
        "every order".to_owned()
    } else {
        format!("orders of at least {minimum}")
    };
    match subscription.status {
        SubscriptionStatus::Pending => view! {
            <tr>
                <td>{email}</td>
                <td><span class="badge pending">"pending confirmation"</span></td>
                <td class="muted">"—"</td>
                <td class="muted small">"Waiting for the address to follow the link AWS emailed it. It can be removed once confirmed, or left to expire."</td>
            </tr>
        }
        .into_any(),
        SubscriptionStatus::Confirmed { arn } => view! {
            <tr>
                <td>{email.clone()}</td>
                <td><span class="badge confirmed">"confirmed"</span></td>
                <td>
                    {which}
                    <form method="post" action=SetSubscriptionFilter::PATH class="row compact">
                        <Csrf/>
                        <input type="hidden" name="arn" value=arn.clone()/>
                        <input type="hidden" name="email" value=email.clone()/>
                        <label>
                            "Minimum total"
                            <input type="text" inputmode="decimal" name="min_total" value=minimum size="8" placeholder="e.g. 50.00"/>
                        </label>
                        <button type="submit" class="quiet">"Set"</button>
                    </form>
                </td>
                <td>
                    <form method="post" action=RemoveSubscription::PATH>
                        <Csrf/>
                        <input type="hidden" name="arn" value=arn/>
                        <input type="hidden" name="email" value=email.clone()/>
                        <details class="confirm">
                            <summary class="button danger">"Remove…"</summary>
                            <p>{format!("Stop emailing {email} about orders?")}</p>
                            <button type="submit" class="danger">"Yes, remove"</button>
                        </details>
                    </form>
                </td>
            </tr>
        }
        .into_any(),
    }
}
