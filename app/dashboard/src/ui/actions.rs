//! Every state-changing action of the dashboard, as a server function that a
//! plain HTML form posts to. Each one does its work, leaves a flash message
//! saying what happened (or what went wrong and what to do), and redirects
//! back to its page: the same with or without JavaScript.

use std::time::Duration;

use leptos::prelude::*;

use super::flash::{self, Kind};
use crate::auth::password::Password;
use crate::auth::web::{client_address, current_user};
use crate::auth::{Role, SignIn, session};
use domain::notification::AttributeValue;
use domain::{Currency, Email, MinorUnits, OrderEmail};

/// How long one "redrive all" request may run before it reports progress.
const REDRIVE_ALL_BUDGET: Duration = Duration::from_secs(20);

/// Records an operator's or admin's action, with its outcome, in the activity log.
async fn audited<T, E: std::fmt::Display>(
    action: &str,
    target: &str,
    result: Result<T, E>,
) -> Result<T, E> {
    let actor = current_user()
        .map(|user| user.email)
        .unwrap_or_else(|| "(unknown)".to_owned());
    let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
    let recorded = super::dashboard()
        .auth
        .audit
        .record(&actor, action, target, outcome, chrono::Utc::now())
        .await;
    if let Err(error) = recorded {
        tracing::error!(%error, %action, %target, "an action could not be recorded in the activity log");
    }
    result
}

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

fn moved_message(verb: &str, moved: crate::Moved) -> String {
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
    let result = audited("redrive dead letters", &ids.join(", "), result).await;
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
    let result = audited("redrive all dead letters", "dead-letter queue", result).await;
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
    let result = audited("delete dead letters", &ids.join(", "), result).await;
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
            let result = audited("subscribe", email.as_str(), result).await;
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
    let result = audited("unsubscribe", &email, result).await;
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
            let filter = amount.map_or_else(
                || "every order".to_owned(),
                |a| format!("minimum total {}", a.get()),
            );
            let result = audited(
                "set subscription filter",
                &format!("{email}: {filter}"),
                result,
            )
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
    let result = audited("send test notification", "order topic", result).await;
    finish("/subscriptions", result, |message_id| {
        format!(
            "Test notification sent (SNS message {message_id}). Confirmed subscribers get it within a minute."
        )
    });
    Ok(())
}

/// Where to go after signing in: only paths of this dashboard.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), ServerFnError> {
    let auth = super::dashboard().auth;
    let address = use_context::<axum::http::request::Parts>()
        .map(|parts| client_address(&parts.headers))
        .unwrap_or_default();
    let again = format!(
        "/login?next={}",
        percent_encoding::utf8_percent_encode(safe_next(&next), percent_encoding::NON_ALPHANUMERIC)
    );
    let outcome = auth
        .sign_in(&email, &password, &address, chrono::Utc::now().timestamp())
        .await;
    match outcome {
        Ok(SignIn::Welcome(sealed)) => {
            if let (Some(response), Ok(cookie)) = (
                use_context::<leptos_axum::ResponseOptions>(),
                axum::http::HeaderValue::from_str(&session::cookie(&sealed, auth.secure_cookies)),
            ) {
                response.append_header(axum::http::header::SET_COOKIE, cookie);
            }
            leptos_axum::redirect(safe_next(&next));
        }
        Ok(SignIn::WrongCredentials) => finish::<(), _>(
            &again,
            Err("That email and password do not match an account."),
            |_| String::new(),
        ),
        Ok(SignIn::Locked { minutes }) => finish::<(), _>(
            &again,
            Err(format!(
                "Too many wrong passwords: signing in is locked for {minutes} more minutes."
            )),
            |_| String::new(),
        ),
        Ok(SignIn::Disabled) => finish::<(), _>(
            &again,
            Err("This account is disabled; ask an admin to enable it."),
            |_| String::new(),
        ),
        Err(error) => finish::<(), _>(&again, Err(format!("Signing in failed: {error}")), |_| {
            String::new()
        }),
    }
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    let auth = super::dashboard().auth;
    if let Some(user) = current_user() {
        // Bumping the session version ends this and every other session of the user.
        if let Err(error) = auth.users.end_sessions(&user.email).await {
            tracing::error!(%error, "could not end the sessions of {}", user.email);
        }
    }
    if let (Some(response), Ok(removal)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(&session::removal(auth.secure_cookies)),
    ) {
        response.append_header(axum::http::header::SET_COOKIE, removal);
    }
    finish::<(), &str>("/login", Ok(()), |_| "Signed out.".to_owned());
    Ok(())
}

/// Refuses an admin's change to their own account that could lock them out.
fn not_yourself(email: &str) -> Result<(), String> {
    match current_user() {
        Some(user) if user.email == email.trim().to_lowercase() => Err(
            "You cannot change your own role or disable yourself; ask another admin.".to_owned(),
        ),
        _ => Ok(()),
    }
}

#[server(prefix = "/api", endpoint = "users/add")]
pub async fn add_user(email: String, role: String, password: String) -> Result<(), ServerFnError> {
    let parsed = (|| {
        let email =
            Email::parse(email.trim().to_owned()).map_err(|e| format!("The email address {e}."))?;
        let role = Role::parse(&role).ok_or("Choose a role.")?;
        let password = Password::parse(password).map_err(|e| format!("The password {e}."))?;
        Ok::<_, String>((email, role, password))
    })();
    let result = match parsed {
        Err(problem) => Err(problem),
        Ok((email, role, password)) => match super::dashboard()
            .auth
            .users
            .create(&email, role, &password)
            .await
        {
            Ok(true) => Ok(format!("Added {email} as {role}.")),
            Ok(false) => Err(format!("{email} already has an account.")),
            Err(error) => Err(error.to_string()),
        },
    };
    let result = audited("add user", &format!("{} ({role})", email.trim()), result).await;
    finish("/users", result, |message| message);
    Ok(())
}

#[server(prefix = "/api", endpoint = "users/role")]
pub async fn set_user_role(email: String, role: String) -> Result<(), ServerFnError> {
    let result = match (not_yourself(&email), Role::parse(&role)) {
        (Err(problem), _) => Err(problem),
        (_, None) => Err("Choose a role.".to_owned()),
        (Ok(()), Some(role)) => super::dashboard()
            .auth
            .users
            .set_role(&email, role)
            .await
            .map_err(|e| e.to_string()),
    };
    let result = audited("change role", &format!("{email} to {role}"), result).await;
    finish("/users", result, |_| format!("{email} is now {role}."));
    Ok(())
}

#[server(prefix = "/api", endpoint = "users/password")]
pub async fn reset_user_password(email: String, password: String) -> Result<(), ServerFnError> {
    let result = match Password::parse(password) {
        Err(error) => Err(format!("The new password {error}.")),
        Ok(password) => super::dashboard()
            .auth
            .users
            .set_password(&email, &password)
            .await
            .map_err(|e| e.to_string()),
    };
    let result = audited("reset password", &email, result).await;
    finish("/users", result, |_| {
        format!("{email} has a new password; their sessions have ended.")
    });
    Ok(())
}

#[server(prefix = "/api", endpoint = "users/disabled")]
pub async fn set_user_disabled(email: String, disabled: bool) -> Result<(), ServerFnError> {
    let result = match not_yourself(&email) {
        Err(problem) => Err(problem),
        Ok(()) => super::dashboard()
            .auth
            .users
            .set_disabled(&email, disabled)
            .await
            .map_err(|e| e.to_string()),
    };
    let action = if disabled {
        "disable user"
    } else {
        "enable user"
    };
    let result = audited(action, &email, result).await;
    finish("/users", result, |_| {
        if disabled {
            format!("{email} is disabled and signed out everywhere.")
        } else {
            format!("{email} may sign in again.")
        }
    });
    Ok(())
}
