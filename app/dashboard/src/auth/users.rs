//! Dashboard users, in the orders table under their own key space
//! (`pk = USER`, `sk = USER#<email>`): few enough for one partition.
//!
//! Beside them, the count of enabled admins (`sk = ADMINS`), so that no
//! change, however concurrent, leaves none: a change that takes an admin
//! away first takes one from the count, on the condition that more than one
//! is left, and only then changes the user (giving it back if that fails);
//! one that adds an admin changes the user first and then adds to the
//! count. So the count is never more than the admins there really are, and
//! two admins demoting each other at once cannot both succeed. (A
//! transaction would do it in one call, but moto restores the whole table
//! when one is cancelled, which breaks the local stack's stream reader.)

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::password::Password;
use super::role::Role;
use domain::Email;
use domain::order::timestamp;
use pipeline::aws::{AwsError, conditional};
use pipeline::table::{self, Key, USER_SORT_PREFIX};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Lower-cased.
    pub email: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
    /// Bumped to end every session of the user.
    pub session_version: u64,
    pub created_at: String,
}

/// A change of a user that may add or take away an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Role(Role),
    Disabled(bool),
}

/// What came of a [`Change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Done,
    /// It would take away the last enabled admin.
    WouldLeaveNoAdmin,
    /// Someone changed the user in the meantime: nothing was done.
    ChangedMeanwhile,
}

#[derive(Serialize, Deserialize)]
struct UserItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    user: User,
}

fn key(email: &str) -> HashMap<String, AttributeValue> {
    Key::user(email).to_attributes()
}

fn unreadable(error: serde_dynamo::Error) -> AwsError {
    AwsError::corrupt("reading a user", error)
}

#[derive(Clone, Debug)]
pub struct UserStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl UserStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub async fn get(&self, email: &str) -> Result<Option<User>, AwsError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(&email.to_lowercase())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading a user", error))?;
        output
            .item
            .map(|item| serde_dynamo::from_item::<_, UserItem>(item).map(|item| item.user))
            .transpose()
            .map_err(unreadable)
    }

    pub async fn list(&self) -> Result<Vec<User>, AwsError> {
        let mut users = Vec::new();
        let mut pages = table::query_sort_prefix(
            &self.client,
            &self.table,
            table::user_partition(),
            USER_SORT_PREFIX,
        )
        .consistent_read(true)
        .into_paginator()
        .items()
        .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|error| AwsError::from_sdk("listing users", error))?;
            users.push(
                serde_dynamo::from_item::<_, UserItem>(item)
                    .map_err(unreadable)?
                    .user,
            );
        }
        Ok(users)
    }

    /// Adds a user; false when the address already has one.
    pub async fn create(
        &self,
        email: &Email,
        role: Role,
        password: &Password,
    ) -> Result<bool, AwsError> {
        let user = User {
            email: email.normalized(),
            role,
            password_hash: password.hash(),
            disabled: false,
            session_version: 0,
            created_at: timestamp(Utc::now()),
        };
        if role == Role::Admin {
            self.count_admins().await?;
        }
        let key = Key::user(&user.email);
        let item = UserItem {
            pk: key.pk,
            sk: key.sk,
            user,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(
                serde_dynamo::to_item(item).expect("a user serializes"),
            ))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        let created = conditional(format!("adding user {email}"), result)?;
        if created && role == Role::Admin {
            self.add_to_admins(1).await?;
        }
        Ok(created)
    }

    /// Makes sure the count of enabled admins exists, counting them when it
    /// does not (a table from before the count, or a new one).
    async fn count_admins(&self) -> Result<(), AwsError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Key::admin_count().to_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading the count of admins", error))?;
        if found.item.is_some() {
            return Ok(());
        }
        let admins = self
            .list()
            .await?
            .iter()
            .filter(|user| user.role == Role::Admin && !user.disabled)
            .count();
        let mut item = Key::admin_count().to_attributes();
        item.insert("admins".to_owned(), AttributeValue::N(admins.to_string()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        // Someone else counted first: theirs stands.
        conditional("counting the admins", result)?;
        Ok(())
    }

    async fn add_to_admins(&self, change: i64) -> Result<(), AwsError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::admin_count().to_attributes()))
            .update_expression("ADD admins :change")
            .expression_attribute_values(":change", AttributeValue::N(change.to_string()))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("updating the count of admins", error))?;
        Ok(())
    }

    /// Takes one admin from the count if more than one is left; false when
    /// this would leave none.
    async fn take_from_admins(&self) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::admin_count().to_attributes()))
            .update_expression("ADD admins :minus_one")
            .condition_expression("admins > :one")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".to_owned()))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .send()
            .await;
        conditional("updating the count of admins", result)
    }

    /// Changes a user that is still as `before` says (role and enabled),
    /// keeping the count of admins true; `Ok(Changed::No…)` when it cannot.
    pub async fn change(&self, before: &User, change: Change) -> Result<Changed, AwsError> {
        let was_admin = before.role == Role::Admin && !before.disabled;
        let (role, disabled) = match change {
            Change::Role(role) => (role, before.disabled),
            Change::Disabled(disabled) => (before.role, disabled),
        };
        let will_be_admin = role == Role::Admin && !disabled;
        if was_admin != will_be_admin {
            // Counted before the change, so that it counts the admins as they were.
            self.count_admins().await?;
        }
        if was_admin && !will_be_admin && !self.take_from_admins().await? {
            return Ok(Changed::WouldLeaveNoAdmin);
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&before.email)))
            .condition_expression("#role = :was_role AND disabled = :was_disabled")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(
                ":was_role",
                AttributeValue::S(before.role.as_str().to_owned()),
            )
            .expression_attribute_values(":was_disabled", AttributeValue::Bool(before.disabled))
            .expression_attribute_values(":role", AttributeValue::S(role.as_str().to_owned()))
            .expression_attribute_values(":disabled", AttributeValue::Bool(disabled));
        request = if disabled && !before.disabled {
            // Disabling ends the user's sessions at once.
            request
                .update_expression(
                    "SET #role = :role, disabled = :disabled ADD sessionVersion :one",
                )
                .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
        } else {
            request.update_expression("SET #role = :role, disabled = :disabled")
        };
        let changed = conditional(format!("changing {}", before.email), request.send().await);
        if was_admin && !will_be_admin && !matches!(changed, Ok(true)) {
            // The user was not changed: give back the admin taken from the count.
            self.add_to_admins(1).await?;
        }
        if !changed? {
            return Ok(Changed::ChangedMeanwhile);
        }
        if will_be_admin && !was_admin {
            self.add_to_admins(1).await?;
        }
        Ok(Changed::Done)
    }

    async fn update(
        &self,
        email: &str,
        what: &str,
        expression: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), AwsError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(email)))
            .condition_expression("attribute_exists(pk)")
            .update_expression(expression);
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        request
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("{what} of {email}"), error))?;
        Ok(())
    }

    /// Sets a new password and ends the user's sessions.
    pub async fn set_password(&self, email: &str, password: &Password) -> Result<(), AwsError> {
        self.update(
            email,
            "resetting the password",
            "SET passwordHash = :hash ADD sessionVersion :one",
            vec![
                (":hash", AttributeValue::S(password.hash())),
                (":one", AttributeValue::N("1".to_owned())),
            ],
        )
        .await
    }

    /// Ends every session of the user (logout).
    pub async fn end_sessions(&self, email: &str) -> Result<(), AwsError> {
        self.update(
            email,
            "ending the sessions",
            "ADD sessionVersion :one",
            vec![(":one", AttributeValue::N("1".to_owned()))],
        )
        .await
    }
}
