//! Dashboard users, in the orders table under their own key space
//! (`pk = USER`, `sk = USER#<email>`): few enough for one partition.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::password::Password;
use super::role::Role;
use domain::Email;
use domain::order::timestamp;
use pipeline::aws::{AwsError, conditional};
use pipeline::table::{self, Key};

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
        let mut pages = table::query_partition(&self.client, &self.table, table::user_partition())
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
        conditional(format!("adding user {email}"), result)
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
        if expression.contains("#role") {
            // `role` is a DynamoDB reserved word.
            request = request.expression_attribute_names("#role", "role");
        }
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        request
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("{what} of {email}"), error))?;
        Ok(())
    }

    pub async fn set_role(&self, email: &str, role: Role) -> Result<(), AwsError> {
        self.update(
            email,
            "changing the role",
            "SET #role = :role",
            vec![(":role", AttributeValue::S(role.as_str().to_owned()))],
        )
        .await
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

    /// Disables or enables the user; disabling ends their sessions at once.
    pub async fn set_disabled(&self, email: &str, disabled: bool) -> Result<(), AwsError> {
        self.update(
            email,
            if disabled { "disabling" } else { "enabling" },
            "SET disabled = :disabled ADD sessionVersion :one",
            vec![
                (":disabled", AttributeValue::Bool(disabled)),
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
