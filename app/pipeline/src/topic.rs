//! The SNS topic that emails every subscribed address about new orders.

use aws_sdk_sns::types::MessageAttributeValue;

use crate::aws::AwsError;
use domain::OrderEmail;
use domain::notification::AttributeValue;

#[derive(Clone, Debug)]
pub struct OrderTopic {
    client: aws_sdk_sns::Client,
    arn: String,
}

impl OrderTopic {
    pub fn new(client: aws_sdk_sns::Client, arn: impl Into<String>) -> Self {
        Self {
            client,
            arn: arn.into(),
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// Publishes the email; returns SNS's message id.
    pub async fn publish(&self, email: &OrderEmail) -> Result<String, AwsError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.arn)
            .subject(&email.subject)
            .message(&email.body);
        for (name, value) in &email.attributes {
            let (data_type, text) = match value {
                AttributeValue::String(text) => ("String", text.clone()),
                AttributeValue::Number(number) => ("Number", number.to_string()),
            };
            let attribute = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(text)
                .build()
                .expect("data type is set");
            request = request.message_attributes(*name, attribute);
        }
        let output = request
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("publishing the order email", error))?;
        Ok(output.message_id.unwrap_or_default())
    }
}
