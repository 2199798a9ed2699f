//! `/subscriptions`: who gets the order emails, and how to change that.

use leptos::prelude::*;

use crate::auth::Admin;
use crate::ui::access::{Granted, Page};
use leptos::server_fn::ServerFn;

use super::widgets::{
    Confirm, Csrf, Empty, FieldProblem, Heading, Problem, UnconfirmedSubscriptions, invalid, kept,
    problem_id,
};
use crate::ui::actions::{
    AddSubscription, RemoveSubscription, SendTestNotification, SetSubscriptionFilter,
};
use crate::ui::dashboard;
use crate::{EmailSubscription, SubscriptionStatus};
use domain::Currency;

use crate::subscriptions::Minimums;

pub struct SubscriptionsPage;

impl Page for SubscriptionsPage {
    type Needs = Admin;
    const PATH: &'static str = "/subscriptions";

    fn view(_granted: Granted<Admin>) -> AnyView {
        view! {
        <Heading
            title="Notifications".to_owned()
            subtitle="Every address here gets an email for each new order (or each order above its minimum).".to_owned()
        />
        {Suspend::new(async move {
            match dashboard().subscriptions.list().await {
                Ok(subscriptions) => {
                    subscriptions_view(subscriptions, dashboard().topic.rate().per_second()).into_any()
                }
                Err(error) => view! { <Problem error=error.into()/> }.into_any(),
            }
        })}
    }
        .into_any()
    }
}

pub fn subscriptions_view(
    subscriptions: Vec<EmailSubscription>,
    emails_per_second: u32,
) -> impl IntoView + use<> {
    let pending = crate::subscriptions::unconfirmed(&subscriptions);
    view! {
        <UnconfirmedSubscriptions pending=pending/>
        <section class="card">
            <h2>"Add an address"</h2>
            <form method="post" action=AddSubscription::PATH class="row">
                <Csrf/>
                <label>
                    "Email address"
                    <input type="email" name="email" required=true autocomplete="email" placeholder="orders@example.com"
                        value=kept(AddSubscription::PATH, "email")
                        aria-invalid=invalid(AddSubscription::PATH, "email") aria-describedby=problem_id(AddSubscription::PATH, "email")/>
                    <FieldProblem action=AddSubscription::PATH field="email"/>
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
                    <table class="stack-on-phone">
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
        <section class="card">
            <h2>"Busy times: digests"</h2>
            <p>{format!(
                "The order emails go out at most {emails_per_second} a second, below the 10 a second at which Amazon SNS suspends an email address. \
                 When orders come faster, they are gathered into digests: one email listing each order (id, time, customer, total, items) with the total, \
                 one digest a currency. Every order is in exactly one email, its own or a digest, and its page says which."
            )}</p>
            <p class="muted small">
                "An address with a minimum gets a digest when at least one of its orders reaches the minimum; the digest then lists all of its orders, small ones too, largest total in the subject."
            </p>
        </section>
    }
}

/// The currencies to pick from; a new minimum starts on none (not on the
/// first of the list), so a currency is always chosen, never defaulted.
fn currency_options(selected: Option<Currency>) -> impl IntoView {
    let choose = selected
        .is_none()
        .then(|| view! { <option value="" selected=true>"Currency…"</option> });
    let currencies = Currency::ALL
        .into_iter()
        .map(|currency| {
            view! { <option value=currency.code() selected=selected == Some(currency)>{currency.code()}</option> }
        })
        .collect_view();
    view! { {choose} {currencies} }
}

/// The rows of the minimums form: one a minimum, and one empty to add another.
fn minimum_rows(email: &str, minimums: &Minimums) -> impl IntoView + use<> {
    let mut rows: Vec<(Option<Currency>, String)> = minimums
        .0
        .iter()
        .map(|(currency, amount)| (Some(*currency), amount.plain(*currency)))
        .collect();
    rows.push((None, String::new()));
    rows.into_iter()
        .enumerate()
        .map(|(index, (currency, amount))| {
            let label = format!("Minimum {} for {email}", index + 1);
            view! {
                <span class="minimum">
                    <label>
                        <span class="visually-hidden">{format!("{label}: currency")}</span>
                        <select name=format!("minimums[{index}][currency]")>{currency_options(currency)}</select>
                    </label>
                    <label>
                        <span class="visually-hidden">{format!("{label}: amount")}</span>
                        <input type="text" inputmode="decimal" name=format!("minimums[{index}][amount]") value=amount size="8" placeholder="e.g. 50.00"/>
                    </label>
                </span>
            }
        })
        .collect_view()
}

fn subscription_row(subscription: EmailSubscription) -> impl IntoView + use<> {
    let email = subscription.email.clone();
    let which = subscription.minimums.describe();
    match subscription.status {
        SubscriptionStatus::Pending => view! {
            <tr>
                <th scope="row" data-label="Address">{email}</th>
                <td data-label="Status"><span class="badge pending">"pending confirmation"</span></td>
                <td data-label="Which orders" class="muted">"—"</td>
                <td data-label="Actions" class="muted small">"Waiting for the address to follow the link AWS emailed it. It can be removed once confirmed, or left to expire."</td>
            </tr>
        }
        .into_any(),
        SubscriptionStatus::Confirmed { arn } => view! {
            <tr>
                <th scope="row" data-label="Address">{email.clone()}</th>
                <td data-label="Status"><span class="badge confirmed">"confirmed"</span></td>
                <td data-label="Which orders">
                    {which}
                    <form method="post" action=SetSubscriptionFilter::PATH class="row compact">
                        <Csrf/>
                        <input type="hidden" name="arn" value=arn.clone()/>
                        {minimum_rows(&email, &subscription.minimums)}
                        <button type="submit" class="quiet">"Set"<span class="visually-hidden">{format!(" the minimums for {email}")}</span></button>
                    </form>
                </td>
                <td data-label="Actions">
                    <form method="post" action=RemoveSubscription::PATH>
                        <Csrf/>
                        <input type="hidden" name="arn" value=arn/>
                        <Confirm
                            open="Remove".to_owned()
                            on=email.clone()
                            question=format!("Stop emailing {email} about orders?")
                            confirm="Yes, remove".to_owned()
                            danger=true
                        />
                    </form>
                </td>
            </tr>
        }
        .into_any(),
    }
}
