//! The dashboard's users, as admins manage them, with the rules that keep
//! an admin from locking themselves out; every change is recorded in the
//! activity log with what the server did.

use domain::Email;

use crate::Dashboard;
use crate::auth::audit::Record;
use crate::auth::password::Password;
use crate::auth::users::{Change, Changed, User};
use crate::auth::{CurrentUser, Role};
use crate::outcome::{ActionError, Audited};

fn role(text: &str) -> Result<Role, ActionError> {
    Role::parse(text).ok_or_else(|| ActionError::field("role", "Choose a role."))
}

fn password(field: &str, text: String) -> Result<Password, ActionError> {
    Password::parse(text)
        .map_err(|problem| ActionError::field(field, format!("The password {problem}.")))
}

/// Refuses an admin's change to their own account that could lock them out.
fn not_yourself(actor: &CurrentUser, email: &str) -> Result<(), ActionError> {
    if actor.email == email.trim().to_lowercase() {
        Err(ActionError::Refused(
            "You cannot change your own role or disable yourself; ask another admin.".to_owned(),
        ))
    } else {
        Ok(())
    }
}

impl Dashboard {
    /// A role or enabled change, refused when it would leave no admin.
    async fn change_user(&self, user: &User, change: Change) -> Result<(), ActionError> {
        match self.auth.users.change(user, change).await? {
            Changed::Done => Ok(()),
            Changed::WouldLeaveNoAdmin => Err(ActionError::Refused(format!(
                "{} is the last enabled admin: make someone else an admin first.",
                user.email
            ))),
            Changed::ChangedMeanwhile => Err(ActionError::Refused(format!(
                "{} was changed by someone else just now: reload the page to see how it is, then try again.",
                user.email
            ))),
        }
    }

    pub async fn users(&self) -> Result<Vec<User>, ActionError> {
        Ok(self.auth.users.list().await?)
    }

    async fn existing_user(&self, email: &str) -> Result<User, ActionError> {
        self.auth
            .users
            .get(email)
            .await?
            .ok_or_else(|| ActionError::NotFound(format!("There is no user {email}.")))
    }

    pub async fn add_user(
        &self,
        actor: &CurrentUser,
        email: &str,
        role_name: &str,
        first_password: String,
    ) -> Result<Audited<(Email, Role)>, ActionError> {
        let attempt = async {
            let email = Email::parse(email.trim().to_owned()).map_err(|problem| {
                ActionError::field("email", format!("The email address {problem}."))
            })?;
            let role = role(role_name)?;
            let password = password("password", first_password)?;
            if self.auth.users.create(&email, role, &password).await? {
                Ok((email, role))
            } else {
                Err(ActionError::Refused(format!(
                    "{email} already has an account."
                )))
            }
        }
        .await;
        let record = Record::new(&actor.email, "add user", email.trim()).detail("role", role_name);
        self.auth.audit.after(record, attempt).await
    }

    pub async fn change_role(
        &self,
        actor: &CurrentUser,
        email: &str,
        role_name: &str,
    ) -> Result<Audited<(User, Role)>, ActionError> {
        let attempt = async {
            not_yourself(actor, email)?;
            let role = role(role_name)?;
            let user = self.existing_user(email).await?;
            self.change_user(&user, Change::Role(role)).await?;
            Ok((user, role))
        }
        .await;
        let mut record = Record::new(&actor.email, "change role", email);
        if let Ok((user, role)) = &attempt {
            record = record.detail("from", user.role).detail("to", role);
        }
        self.auth.audit.after(record, attempt).await
    }

    pub async fn reset_password(
        &self,
        actor: &CurrentUser,
        email: &str,
        new_password: String,
    ) -> Result<Audited<User>, ActionError> {
        let attempt = async {
            let password = password("password", new_password)?;
            let user = self.existing_user(email).await?;
            self.auth.users.set_password(&user.email, &password).await?;
            Ok(user)
        }
        .await;
        let record = Record::new(&actor.email, "reset password", email).detail("sessions", "ended");
        self.auth.audit.after(record, attempt).await
    }

    pub async fn set_user_disabled(
        &self,
        actor: &CurrentUser,
        email: &str,
        disabled: bool,
    ) -> Result<Audited<User>, ActionError> {
        let attempt = async {
            not_yourself(actor, email)?;
            let user = self.existing_user(email).await?;
            self.change_user(&user, Change::Disabled(disabled)).await?;
            Ok(user)
        }
        .await;
        let action = if disabled {
            "disable user"
        } else {
            "enable user"
        };
        self.auth
            .audit
            .after(Record::new(&actor.email, action, email), attempt)
            .await
    }
}
