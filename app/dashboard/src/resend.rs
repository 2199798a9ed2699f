//! Sending an order's email again, for orders whose email never went out:
//! the dashboard asks notify (which alone emails orders), and notify mails
//! only an order that does not say it was notified, so asking twice, or for
//! an order mailed meanwhile, never mails twice.

use domain::OrderId;

use crate::Dashboard;
use crate::auth::CurrentUser;
use crate::auth::audit::Record;
use crate::outcome::{ActionError, Audited};

/// The most orders one request asks for.
pub const MAX_AT_ONCE: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resent {
    pub asked: Vec<OrderId>,
    pub already_notified: Vec<OrderId>,
    pub unknown: Vec<String>,
}

impl Dashboard {
    pub async fn resend_emails(
        &self,
        actor: &CurrentUser,
        ids: &[String],
    ) -> Result<Audited<Resent>, ActionError> {
        if ids.is_empty() {
            return Err(ActionError::invalid(
                "Choose the orders to send again first.",
            ));
        }
        if ids.len() > MAX_AT_ONCE {
            return Err(ActionError::invalid(format!(
                "Send at most {MAX_AT_ONCE} orders again at once."
            )));
        }
        let attempt = async {
            let mut resent = Resent::default();
            for text in ids {
                let Ok(id) = OrderId::parse(text.clone()) else {
                    resent.unknown.push(text.clone());
                    continue;
                };
                match self.orders.get(&id).await? {
                    None => resent.unknown.push(text.clone()),
                    Some(order) if order.notified.is_some() => resent.already_notified.push(id),
                    Some(_) => {
                        self.orders.request_email(&id, &actor.email).await?;
                        resent.asked.push(id);
                    }
                }
            }
            Ok(resent)
        }
        .await;
        let mut record = Record::new(
            &actor.email,
            "send order emails again",
            format!("{} orders", ids.len()),
        );
        if let Ok(resent) = &attempt {
            let list = |ids: &[OrderId]| {
                ids.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            record = record
                .detail("asked notify for", list(&resent.asked))
                .detail("already notified", list(&resent.already_notified))
                .detail("no such order", resent.unknown.join(" "));
        }
        self.auth.audit.after(record, attempt).await
    }
}
