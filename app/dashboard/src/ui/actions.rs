//! Every action of the dashboard, as a server function that a plain HTML
//! form posts to. Each one declares who may call it (`impl Action`, right
//! below it), checks that itself, calls the dashboard's services (which hold
//! the rules and write the activity log) and returns what happened or a
//! typed error; the web layer turns that into a redirect with a message.

use std::time::Duration;

use leptos::prelude::*;

use super::access::Action;
use super::dashboard;
use crate::auth::{Admin, ClientAddress, Operator, Public, SignIn, SignedInBefore, Viewer};
use crate::dead_letters::{Redrive, Selection};
use crate::outcome::{ActionError, Done, SessionChange};
use crate::subscriptions::MinimumField;
use crate::web::canonical::safe_next;

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<Done, ActionError> {
    Login::authorize()?;
    let parts = use_context::<axum::http::request::Parts>();
    let from = parts
        .as_ref()
        .and_then(|parts| parts.extensions.get::<ClientAddress>().copied())
        .unwrap_or_default();
    let before = parts
        .as_ref()
        .and_then(|parts| parts.extensions.get::<SignedInBefore>().cloned())
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    match dashboard()
        .auth
        .sign_in(&email, &password, from, &before, now)
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
        SignIn::Paused => Err(ActionError::SignInFailed(
            "There have been many attempts to sign in to this account, so it is being slowed down: try again in a little while. From a browser you signed in with before, you are not slowed.".to_owned(),
        )),
        SignIn::OverBudget => Err(ActionError::SignInFailed(
            "Too many sign-in attempts came from your network: try again later, or ask an admin.".to_owned(),
        )),
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

/// What a redrive form carries: which dead letters, or the redrive under
/// way that it continues (its task id, which names state the server kept).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RedriveForm {
    /// `all`, `reason` or `ids`.
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub ids: Vec<String>,
    /// Leave the ones ingest would refuse again.
    #[serde(default)]
    pub skip_failing: bool,
}

impl RedriveForm {
    pub fn task(&self) -> Result<Redrive, ActionError> {
        let selection = match self.scope.as_str() {
            "all" => Selection::All,
            "reason" if !self.reason.trim().is_empty() => Selection::Reason(self.reason.clone()),
            "ids" if !self.ids.is_empty() => Selection::Ids(self.ids.clone()),
            "ids" => {
                return Err(ActionError::invalid(
                    "Select the dead letters to redrive first.",
                ));
            }
            _ => {
                return Err(ActionError::invalid(
                    "Choose which dead letters to redrive.",
                ));
            }
        };
        Ok(Redrive {
            started: chrono::Utc::now().timestamp_millis(),
            selection,
            skip_failing: self.skip_failing,
            moved: 0,
            rounds: 0,
        })
    }
}

/// How long one redrive request may run before it reports progress.
pub const REDRIVE_ROUND: Duration = Duration::from_secs(20);

/// The page that continues a redrive under way.
pub fn continue_path(task_id: &str) -> String {
    format!("/dead-letters?redrive={task_id}")
}

#[server(prefix = "/api", endpoint = "dead-letters/redrive")]
pub async fn redrive_dead_letters(
    #[server(default)] scope: String,
    #[server(default)] reason: String,
    #[server(default)] ids: Vec<String>,
    #[server(default)] skip_failing: bool,
    // Set when continuing: the redrive under way, as the server kept it.
    #[server(default)] task: String,
) -> Result<Done, ActionError> {
    let who = RedriveDeadLetters::authorize()?;
    let owner = &who.user().email;
    let drafts = &dashboard().drafts;
    let (mut redrive, task_id) = if task.is_empty() {
        let form = RedriveForm {
            scope,
            reason,
            ids,
            skip_failing,
        };
        (form.task()?, None)
    } else {
        let kept = drafts.redrive(owner, &task).await?.ok_or_else(|| {
            ActionError::NotFound(
                "That redrive is over (or was started by someone else); the dead letters below are what is left.".to_owned(),
            )
        })?;
        (kept, Some(task))
    };
    let round = dashboard()
        .redrive(who.user(), &redrive, REDRIVE_ROUND)
        .await?;
    redrive.moved += round.value.moved_ids.len() as u32;
    redrive.rounds += 1;
    let failing = round.value.failing_count();
    let mut message = format!(
        "Sent back to the order queue: {} in all.",
        plural(redrive.moved as usize, "dead letter", "dead letters")
    );
    if failing > 0 {
        message.push_str(&format!(
            " {} left because ingest would refuse {} again (see the groups below; fix them or delete them).",
            plural(failing as usize, "message is", "messages are"),
            if failing == 1 { "it" } else { "them" }
        ));
    }
    if round.value.arrived_after > 0 {
        message.push_str(&format!(
            " {} arrived after the redrive started and {} left alone.",
            plural(round.value.arrived_after as usize, "message", "messages"),
            if round.value.arrived_after == 1 {
                "was"
            } else {
                "were"
            }
        ));
    }
    if round.value.done {
        if let Some(id) = &task_id {
            drafts.end_redrive(owner, id).await?;
        }
        message.push_str(&format!(
            " Done; {} left in the dead-letter queue.",
            round.value.remaining
        ));
        Ok(Done::message(message + round.note()).go_to("/dead-letters"))
    } else {
        message.push_str(" More to go: the redrive continues.");
        let id = match task_id {
            Some(id) => {
                drafts.keep_redrive(owner, &id, &redrive).await?;
                id
            }
            None => drafts.start_redrive(owner, &redrive).await?,
        };
        Ok(Done::message(message + round.note()).go_to(continue_path(&id)))
    }
}

impl Action for RedriveDeadLetters {
    type Needs = Operator;
    const PAGE: &'static str = "/dead-letters";
}

#[server(prefix = "/api", endpoint = "dead-letters/delete")]
pub async fn delete_dead_letters(#[server(default)] ids: Vec<String>) -> Result<Done, ActionError> {
    let who = DeleteDeadLetters::authorize()?;
    let deleted = dashboard().delete_dead_letters(who.user(), &ids).await?;
    let mut message = format!(
        "Deleted {}.",
        plural(deleted.value.ids.len(), "dead letter", "dead letters")
    );
    if deleted.value.missing > 0 {
        message.push_str(&format!(
            " {} could not be found (already handled, or held by another action: try again in a few seconds).",
            plural(deleted.value.missing, "message", "messages")
        ));
    }
    message.push_str(&format!(
        " {} left in the dead-letter queue.",
        deleted.value.remaining
    ));
    Ok(Done::message(message + deleted.note()).go_to("/dead-letters"))
}

impl Action for DeleteDeadLetters {
    type Needs = Operator;
    const PAGE: &'static str = "/dead-letters";
}

#[server(prefix = "/api", endpoint = "dead-letters/edit")]
pub async fn edit_dead_letter(
    message_id: String,
    body: String,
    #[server(default)] check: bool,
) -> Result<Done, ActionError> {
    let who = EditDeadLetter::authorize()?;
    let page = format!("/dead-letters/{message_id}");
    let sent = dashboard()
        .send_corrected(who.user(), &message_id, &body, check)
        .await?;
    if check {
        Ok(Done::message("The corrected body is a valid order. Send it when ready.").go_to(page))
    } else {
        Ok(Done::message(format!(
            "The corrected order {} is on the order queue; the dead letter is gone.{}",
            sent.value,
            sent.note()
        ))
        .go_to("/dead-letters"))
    }
}

impl Action for EditDeadLetter {
    type Needs = Operator;
    const PAGE: &'static str = "/dead-letters";
}

#[server(prefix = "/api", endpoint = "orders/resend")]
pub async fn resend_emails(#[server(default)] ids: Vec<String>) -> Result<Done, ActionError> {
    let who = ResendEmails::authorize()?;
    let resent = dashboard().resend_emails(who.user(), &ids).await?;
    let mut message = format!(
        "Asked notify to send the email of {}.",
        plural(resent.value.asked.len(), "order", "orders")
    );
    if !resent.value.already_notified.is_empty() {
        message.push_str(&format!(
            " {} had been mailed meanwhile and will not be mailed again.",
            plural(resent.value.already_notified.len(), "order", "orders")
        ));
    }
    if !resent.value.unknown.is_empty() {
        message.push_str(&format!(
            " No such order: {}.",
            resent.value.unknown.join(", ")
        ));
    }
    Ok(Done::message(message + resent.note()))
}

impl Action for ResendEmails {
    type Needs = Operator;
    const PAGE: &'static str = "/not-notified";
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

#[server(prefix = "/api", endpoint = "products/save")]
pub async fn save_product(
    sku: String,
    name: String,
    currency: String,
    unit_price: String,
    #[server(default)] active: bool,
) -> Result<Done, ActionError> {
    let who = SaveProduct::authorize()?;
    let saved = dashboard()
        .save_product(who.user(), [&sku, &name, &currency, &unit_price], active)
        .await?;
    let product = &saved.value;
    Ok(Done::message(format!(
        "Saved {} at {}{}.{}",
        product.sku.as_str(),
        product.unit_price.format(product.currency),
        if product.active { "" } else { ", off sale" },
        saved.note()
    )))
}

impl Action for SaveProduct {
    type Needs = Admin;
    const PAGE: &'static str = "/products";
}

#[server(prefix = "/api", endpoint = "products/active")]
pub async fn set_product_active(sku: String, active: bool) -> Result<Done, ActionError> {
    let who = SetProductActive::authorize()?;
    let changed = dashboard()
        .set_product_active(who.user(), &sku, active)
        .await?;
    let sku = changed.value.sku.as_str();
    Ok(Done::message(if active {
        format!("{sku} is on sale again.{}", changed.note())
    } else {
        format!(
            "{sku} is off sale: orders for it go to the dead letters.{}",
            changed.note()
        )
    }))
}

impl Action for SetProductActive {
    type Needs = Admin;
    const PAGE: &'static str = "/products";
}

#[server(prefix = "/api", endpoint = "products/import")]
pub async fn import_products(csv: String) -> Result<Done, ActionError> {
    let who = ImportProducts::authorize()?;
    let imported = dashboard().import_products(who.user(), &csv).await?;
    Ok(Done::message(format!(
        "Imported {}.{}",
        plural(imported.value, "product", "products"),
        imported.note()
    )))
}

impl Action for ImportProducts {
    type Needs = Admin;
    const PAGE: &'static str = "/products";
}
