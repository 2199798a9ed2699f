//! Every action of the dashboard, as a server function that a plain HTML
//! form posts to. Each one declares who may call it (`impl Action`, right
//! below it), checks that itself, calls the dashboard's services (which hold
//! the rules and write the activity log) and returns what happened or a
//! typed error; the web layer turns that into a redirect with a message.

use std::time::Duration;

use leptos::prelude::*;

use super::access::Action;
use super::dashboard;
use crate::auth::{Admin, ClientAddress, Operator, Public, SignIn, Viewer};
use crate::outcome::{ActionError, Done, SessionChange};
use crate::subscriptions::MinimumField;
use crate::web::canonical::safe_next;

/// How long one "redrive all" request may run before it reports progress.
const REDRIVE_ALL_BUDGET: Duration = Duration::from_secs(20);

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

fn moved_message(verb: &str, moved: &crate::Moved) -> String {
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

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<Done, ActionError> {
    Login::authorize()?;
    let from = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ClientAddress>().copied())
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    match dashboard()
        .auth
        .sign_in(&email, &password, from, now)
        .await?
    {
        SignIn::Welcome(session) => Ok(Done {
            message: String::new(),
            go_to: Some(safe_next(&next)),
            session: SessionChange::Start(session),
        }),
        SignIn::WrongCredentials => Err(ActionError::SignInFailed(
            "That email and password do not match an account.".to_owned(),
        )),
        SignIn::Locked { minutes } => Err(ActionError::SignInFailed(format!(
            "Too many attempts from here: signing in to this account from this address is locked for {} more.",
            plural(minutes as usize, "minute", "minutes")
        ))),
        SignIn::Paused { seconds } => Err(ActionError::SignInFailed(format!(
            "There were many attempts to sign in to this account: wait {}, then try again.",
            plural(seconds as usize, "second", "seconds")
        ))),
        SignIn::Disabled => Err(ActionError::SignInFailed(
            "This account is disabled; ask an admin to enable it.".to_owned(),
        )),
    }
}

impl Action for Login {
    type Needs = Public;
    const PAGE: &'static str = "/login";
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<Done, ActionError> {
    let who = Logout::authorize()?;
    dashboard().auth.sign_out(who.user()).await?;
    Ok(Done {
        message: "Signed out.".to_owned(),
        go_to: Some("/login".to_owned()),
        session: SessionChange::End,
    })
}

impl Action for Logout {
    type Needs = Viewer;
    const PAGE: &'static str = "/";
}

#[server(prefix = "/api", endpoint = "dead-letters/redrive")]
pub async fn redrive_dead_letters(
    #[server(default)] ids: Vec<String>,
) -> Result<Done, ActionError> {
    let who = RedriveDeadLetters::authorize()?;
    let moved = dashboard().redrive_dead_letters(who.user(), &ids).await?;
    Ok(Done::message(
        moved_message("Sent back to the order queue:", &moved.value) + moved.note(),
    ))
}

impl Action for RedriveDeadLetters {
    type Needs = Operator;
    const PAGE: &'static str = "/dead-letters";
}

#[server(prefix = "/api", endpoint = "dead-letters/redrive-all")]
pub async fn redrive_all_dead_letters() -> Result<Done, ActionError> {
    let who = RedriveAllDeadLetters::authorize()?;
    let moved = dashboard()
        .redrive_all_dead_letters(who.user(), REDRIVE_ALL_BUDGET)
        .await?;
    let mut message = moved_message("Sent back to the order queue:", &moved.value);
    if moved.value.remaining > 0 {
        message.push_str(" Run “Redrive all” again to move the rest.");
    }
    Ok(Done::message(message + moved.note()))
}

impl Action for RedriveAllDeadLetters {
    type Needs = Operator;
    const PAGE: &'static str = "/dead-letters";
}

#[server(prefix = "/api", endpoint = "dead-letters/delete")]
pub async fn delete_dead_letters(#[server(default)] ids: Vec<String>) -> Result<Done, ActionError> {
    let who = DeleteDeadLetters::authorize()?;
    let moved = dashboard().delete_dead_letters(who.user(), &ids).await?;
    Ok(Done::message(
        moved_message("Deleted", &moved.value) + moved.note(),
    ))
}

impl Action for DeleteDeadLetters {
    type Needs = Operator;
    const PAGE: &'static str = "/dead-letters";
}

#[server(prefix = "/api", endpoint = "subscriptions/add")]
pub async fn add_subscription(email: String) -> Result<Done, ActionError> {
    let who = AddSubscription::authorize()?;
    let added = dashboard().subscribe(who.user(), &email).await?;
    Ok(Done::message(format!(
        "Subscribed {}. AWS emails a confirmation link to that address; it gets order emails once the link is followed.{}",
        added.value,
        added.note()
    )))
}

impl Action for AddSubscription {
    type Needs = Admin;
    const PAGE: &'static str = "/subscriptions";
}

#[server(prefix = "/api", endpoint = "subscriptions/remove")]
pub async fn remove_subscription(arn: String) -> Result<Done, ActionError> {
    let who = RemoveSubscription::authorize()?;
    let removed = dashboard().unsubscribe(who.user(), &arn).await?;
    Ok(Done::message(format!(
        "{} no longer gets order emails.{}",
        removed.value,
        removed.note()
    )))
}

impl Action for RemoveSubscription {
    type Needs = Admin;
    const PAGE: &'static str = "/subscriptions";
}

#[server(prefix = "/api", endpoint = "subscriptions/filter")]
pub async fn set_subscription_filter(
    arn: String,
    #[server(default)] minimums: Vec<MinimumField>,
) -> Result<Done, ActionError> {
    let who = SetSubscriptionFilter::authorize()?;
    let set = dashboard()
        .set_minimums(who.user(), &arn, &minimums)
        .await?;
    let (email, minimums) = &set.value;
    Ok(Done::message(format!(
        "{email} now gets {}.{}",
        minimums.describe(),
        set.note()
    )))
}

impl Action for SetSubscriptionFilter {
    type Needs = Admin;
    const PAGE: &'static str = "/subscriptions";
}

#[server(prefix = "/api", endpoint = "subscriptions/test")]
pub async fn send_test_notification() -> Result<Done, ActionError> {
    let who = SendTestNotification::authorize()?;
    let sent = dashboard().send_test_notification(who.user()).await?;
    Ok(Done::message(format!(
        "Test notification sent (SNS message {}). Confirmed subscribers without a minimum get it within a minute.{}",
        sent.value,
        sent.note()
    )))
}

impl Action for SendTestNotification {
    type Needs = Admin;
    const PAGE: &'static str = "/subscriptions";
}

#[server(prefix = "/api", endpoint = "users/add")]
pub async fn add_user(email: String, role: String, password: String) -> Result<Done, ActionError> {
    let who = AddUser::authorize()?;
    let added = dashboard()
        .add_user(who.user(), &email, &role, password)
        .await?;
    let (email, role) = &added.value;
    Ok(Done::message(format!(
        "Added {email} as {role}.{}",
        added.note()
    )))
}

impl Action for AddUser {
    type Needs = Admin;
    const PAGE: &'static str = "/users";
}

#[server(prefix = "/api", endpoint = "users/role")]
pub async fn set_user_role(email: String, role: String) -> Result<Done, ActionError> {
    let who = SetUserRole::authorize()?;
    let changed = dashboard().change_role(who.user(), &email, &role).await?;
    let (user, role) = &changed.value;
    Ok(Done::message(format!(
        "{} is now {role}.{}",
        user.email,
        changed.note()
    )))
}

impl Action for SetUserRole {
    type Needs = Admin;
    const PAGE: &'static str = "/users";
}

#[server(prefix = "/api", endpoint = "users/password")]
pub async fn reset_user_password(email: String, password: String) -> Result<Done, ActionError> {
    let who = ResetUserPassword::authorize()?;
    let reset = dashboard()
        .reset_password(who.user(), &email, password)
        .await?;
    Ok(Done::message(format!(
        "{} has a new password; their sessions have ended.{}",
        reset.value.email,
        reset.note()
    )))
}

impl Action for ResetUserPassword {
    type Needs = Admin;
    const PAGE: &'static str = "/users";
}

#[server(prefix = "/api", endpoint = "users/disabled")]
pub async fn set_user_disabled(email: String, disabled: bool) -> Result<Done, ActionError> {
    let who = SetUserDisabled::authorize()?;
    let changed = dashboard()
        .set_user_disabled(who.user(), &email, disabled)
        .await?;
    let email = &changed.value.email;
    Ok(Done::message(if disabled {
        format!(
            "{email} is disabled and signed out everywhere.{}",
            changed.note()
        )
    } else {
        format!("{email} may sign in again.{}", changed.note())
    }))
}

impl Action for SetUserDisabled {
    type Needs = Admin;
    const PAGE: &'static str = "/users";
}
