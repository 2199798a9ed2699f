//! Every state-changing action of the dashboard, as a server function that a
//! plain HTML form posts to. Each one does its work, leaves a flash message
//! saying what happened (or what went wrong and what to do), and redirects
//! back to its page: the same with or without JavaScript.

use std::time::Duration;

use leptos::prelude::*;

use super::flash::{self, Kind};
use crate::domain::notification::AttributeValue;
use crate::domain::{Currency, Email, MinorUnits, OrderEmail};

/// How long one "redrive all" request may run before it reports progress.
const REDRIVE_ALL_BUDGET: Duration = Duration::from_secs(20);

fn finish<T, E: std::fmt::Display>(
    page: &str,
    result: Result<T, E>,
    success: impl FnOnce(T) -> String,
) {
    match result {
        Ok(value) => flash::set(Kind::Success, success(value)),
        Err(error) => flash::set(Kind::Error, error.to_string()),
    }
    leptos_axum::redirect(page);
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

fn moved_message(verb: &str, moved: crate::dashboard::Moved) -> String {
    let mut message = format!(
        "{verb} {}.",
        plural(moved.done, "dead letter", "dead letters")
    );
    if moved.missing > 0 {
        message.push_str(&format!(
            " {} could not be found (already handled, or held by another action: try again in 20 seconds).",
            plural(moved.missing, "message", "messages")
        ));
    }
    message.push_str(&format!(
        " {} left in the dead-letter queue.",
        moved.remaining
    ));
    message
}

#[server(prefix = "/api", endpoint = "dead-letters/redrive")]
pub async fn redrive_dead_letters(
    #[server(default)] ids: Vec<String>,
) -> Result<(), ServerFnError> {
    if ids.is_empty() {
        finish::<(), _>(
            "/dead-letters",
            Err("Select the dead letters to redrive first."),
            |_| String::new(),
        );
        return Ok(());
    }
    let result = super::dashboard().dead_letters.redrive(&ids).await;
    finish("/dead-letters", result, |moved| {
        moved_message("Sent back to the order queue:", moved)
    });
    Ok(())
}

#[server(prefix = "/api", endpoint = "dead-letters/redrive-all")]
pub async fn redrive_all_dead_letters() -> Result<(), ServerFnError> {
    let result = super::dashboard()
        .dead_letters
        .redrive_all(REDRIVE_ALL_BUDGET)
        .await;
    finish("/dead-letters", result, |moved| {
        let mut message = moved_message("Sent back to the order queue:", moved);
        if moved.remaining > 0 {
            message.push_str(" Run “Redrive all” again to move the rest.");
        }
        message
    });
    Ok(())
}

#[server(prefix = "/api", endpoint = "dead-letters/delete")]
pub async fn delete_dead_letters(#[server(default)] ids: Vec<String>) -> Result<(), ServerFnError> {
    if ids.is_empty() {
        finish::<(), _>(
            "/dead-letters",
            Err("Select the dead letters to delete first."),
            |_| String::new(),
        );
        return Ok(());
    }
    let result = super::dashboard().dead_letters.delete(&ids).await;
    finish("/dead-letters", result, |moved| {
        moved_message("Deleted", moved)
    });
    Ok(())
}

#[server(prefix = "/api", endpoint = "subscriptions/add")]
pub async fn add_subscription(email: String) -> Result<(), ServerFnError> {
    let email = email.trim().to_owned();
    match Email::parse(email.clone()) {
        Err(error) => finish::<(), _>(
            "/subscriptions",
            Err(format!("{email:?} is not an email address: it {error}.")),
            |_| String::new(),
        ),
        Ok(email) => {
            let result = super::dashboard().subscriptions.subscribe(&email).await;
            finish("/subscriptions", result, |_| {
                format!(
                    "Subscribed {email}. AWS emails a confirmation link to that address; it gets order emails once the link is followed."
                )
            });
        }
    }
    Ok(())
}

#[server(prefix = "/api", endpoint = "subscriptions/remove")]
pub async fn remove_subscription(arn: String, email: String) -> Result<(), ServerFnError> {
    let result = super::dashboard().subscriptions.unsubscribe(&arn).await;
    finish("/subscriptions", result, |_| {
        format!("{email} no longer gets order emails.")
    });
    Ok(())
}

#[server(prefix = "/api", endpoint = "subscriptions/filter")]
pub async fn set_subscription_filter(
    arn: String,
    email: String,
    #[server(default)] min_total: String,
) -> Result<(), ServerFnError> {
    let min_total = min_total.trim();
    let parsed = if min_total.is_empty() {
        Ok(None)
    } else {
        MinorUnits::parse_major(min_total, Currency::Usd).map(Some)
    };
    match parsed {
        Err(error) => finish::<(), _>(
            "/subscriptions",
            Err(format!("The minimum total {error}.")),
            |_| String::new(),
        ),
        Ok(amount) => {
            let result = super::dashboard()
                .subscriptions
                .set_min_total(&arn, amount)
                .await;
            finish("/subscriptions", result, |_| match amount {
                Some(amount) => format!(
                    "{email} now gets only orders of at least {} (compared in each order's own currency).",
                    amount.format(Currency::Usd).trim_start_matches("USD ")
                ),
                None => format!("{email} now gets every order."),
            });
        }
    }
    Ok(())
}

#[server(prefix = "/api", endpoint = "subscriptions/test")]
pub async fn send_test_notification() -> Result<(), ServerFnError> {
    let email = OrderEmail {
        subject: "Test notification from the order dashboard".to_owned(),
        body: "This is a test of the order emails. If you can read it, order notifications reach you.\n\n\
               Subscriptions with a minimum order total do not get this test."
            .to_owned(),
        attributes: vec![("test", AttributeValue::String("true".to_owned()))],
    };
    let result = super::dashboard().topic.publish(&email).await;
    finish("/subscriptions", result, |message_id| {
        format!(
            "Test notification sent (SNS message {message_id}). Confirmed subscribers get it within a minute."
        )
    });
    Ok(())
}
