//! The staff inbox in a flash sale: the order topic never publishes faster
//! than its rate (SNS suspends an email subscription above 10 messages a
//! second), every order is in exactly one email, its own or a digest.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use local_stack::LocalStack;
use pipeline::email_rate::EmailRate;
use serde::Deserialize;

use crate::support::{PIPELINE, eventually, order_body, post_order, queued, read_stream, stack};

/// A queue of the test's own subscribed to the order topic: it sees every
/// message SNS sends, with the time SNS sent it.
struct Observer {
    queue_url: String,
    seen: Vec<Seen>,
}

#[derive(Debug, Clone)]
struct Seen {
    sent: DateTime<Utc>,
    subject: String,
    orders: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(default)]
    subject: Option<String>,
    message: String,
}

impl Observer {
    async fn subscribe(stack: &LocalStack) -> Self {
        let sqs = &stack.clients.sqs;
        let name = format!(
            "{}-observer",
            stack.resources.names.queue.trim_end_matches("-orders")
        );
        let queue_url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        stack
            .clients
            .sns
            .subscribe()
            .topic_arn(&stack.resources.topic_arn)
            .protocol("sqs")
            .endpoint(arn)
            .send()
            .await
            .unwrap();
        Self {
            queue_url,
            seen: Vec::new(),
        }
    }

    /// Reads what arrived since the last call.
    async fn read(&mut self, stack: &LocalStack) {
        loop {
            let received = stack
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return;
            }
            for message in messages {
                let envelope: Envelope = serde_json::from_str(message.body().unwrap()).unwrap();
                let sent_ms: i64 = message.attributes().unwrap()
                    [&MessageSystemAttributeName::SentTimestamp]
                    .parse()
                    .unwrap();
                let subject = envelope.subject.unwrap_or_default();
                self.seen.push(Seen {
                    sent: DateTime::from_timestamp_millis(sent_ms).unwrap(),
                    orders: domain::digest::orders_named(&subject, &envelope.message),
                    subject,
                });
                stack
                    .clients
                    .sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// The most messages sent in any one second (a sliding window).
    fn busiest_second(&self) -> usize {
        busiest_second(self.seen.iter().map(|seen| seen.sent).collect())
    }

    /// How many messages named each order.
    fn mentions(&self) -> BTreeMap<String, usize> {
        let mut mentions = BTreeMap::new();
        for seen in &self.seen {
            for id in &seen.orders {
                *mentions.entry(id.clone()).or_default() += 1;
            }
        }
        mentions
    }

    /// When the message that named `id` was sent.
    fn covered_at(&self, id: &str) -> Option<DateTime<Utc>> {
        self.seen
            .iter()
            .find(|seen| seen.orders.iter().any(|named| named == id))
            .map(|seen| seen.sent)
    }
}

const RATE: EmailRate = EmailRate::DEFAULT;

/// The most of these instants in any one second (a sliding window).
fn busiest_second(times: Vec<DateTime<Utc>>) -> usize {
    let mut times: Vec<i64> = times.iter().map(DateTime::timestamp_millis).collect();
    times.sort_unstable();
    times
        .iter()
        .enumerate()
        .map(|(index, &start)| {
            times[index..]
                .iter()
                .take_while(|&&at| at < start + 1000)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The most publishes every publisher of the stack (notify, the dashboard)
/// started in any one second: what the email schedule bounds.
fn busiest_publishing_second(stack: &LocalStack) -> usize {
    let mut started = stack.calls.notify.started("sns", "Publish");
    started.extend(stack.calls.dashboard.started("sns", "Publish"));
    busiest_second(started)
}

/// Both views of the rate: the publishes we started (never more than the
/// rate in a second) and what SNS sent on (never over SNS's email limit;
/// the emulator's own delays under load can bunch a message with the next).
fn assert_within_the_rate(stack: &LocalStack, observer: &Observer) -> (usize, usize) {
    let publishing = busiest_publishing_second(stack);
    assert!(
        publishing <= RATE.per_second() as usize,
        "{publishing} publishes started in one second; the rate is {}",
        RATE.per_second()
    );
    let delivered = observer.busiest_second();
    assert!(
        delivered <= EmailRate::SNS_EMAIL_LIMIT as usize,
        "SNS sent {delivered} messages in one second, over its email limit"
    );
    (publishing, delivered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_sale_never_mails_faster_than_the_rate_and_names_every_order_once() {
    if crate::support::runs_alone() {
        return;
    }
    let stack = stack(true).await;
    let mut observer = Observer::subscribe(&stack).await;
    let bodies = domain::sample::orders(600);

    let accepted: Vec<(String, DateTime<Utc>)> = futures::stream::iter(bodies.iter())
        .map(|body| {
            let stack = &stack;
            async move {
                loop {
                    let (status, answer) = post_order(stack, body, None).await;
                    match status {
                        202 => break (answer["orderId"].as_str().unwrap().to_owned(), Utc::now()),
                        // Busy moto: a checkout would try again.
                        503 => tokio::time::sleep(Duration::from_millis(200)).await,
                        other => panic!("the API answered {other}: {answer}"),
                    }
                }
            }
        })
        .buffer_unordered(24)
        .collect()
        .await;
    let posted = Utc::now();

    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        observer.read(&stack).await;
        let mentions = observer.mentions();
        if accepted.iter().all(|(id, _)| mentions.contains_key(id)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {} orders mailed after 300 s",
            accepted
                .iter()
                .filter(|(id, _)| mentions.contains_key(id))
                .count(),
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    observer.read(&stack).await;

    let mentions = observer.mentions();
    for (id, _) in &accepted {
        assert_eq!(mentions.get(id), Some(&1), "{id} is in exactly one email");
    }
    let (busiest, delivered) = assert_within_the_rate(&stack, &observer);
    assert!(
        stack.suspended_subscriptions().is_empty(),
        "SNS would have suspended: {:?}",
        stack.suspended_subscriptions()
    );
    let mut waits: Vec<i64> = accepted
        .iter()
        .map(|(id, at)| (observer.covered_at(id).unwrap() - *at).num_milliseconds())
        .collect();
    waits.sort_unstable();
    let p99 = waits[waits.len() * 99 / 100];
    assert!(
        p99 <= 120_000,
        "99% of orders mailed within {p99} ms of being accepted"
    );
    let digests = observer
        .seen
        .iter()
        .filter(|seen| !seen.subject.starts_with("New order"))
        .count();
    println!(
        "\nflash sale: {} orders posted in {:.1} s; {} emails ({} digests), {:.1} emails per 1,000 orders; busiest second {busiest} published, {delivered} sent by SNS; \
         accepted to mailed p50 {} ms, p99 {p99} ms, max {} ms\n",
        accepted.len(),
        (posted - accepted.iter().map(|(_, at)| *at).min().unwrap()).num_milliseconds() as f64
            / 1000.0,
        observer.seen.len(),
        digests,
        observer.seen.len() as f64 * 1000.0 / accepted.len() as f64,
        waits[waits.len() / 2],
        waits.last().unwrap()
    );
    let overview = stack.dashboard.overview(Utc::now()).await.unwrap();
    assert_eq!(
        (overview.digested.orders, overview.digested.digests),
        (
            observer
                .seen
                .iter()
                .filter(|seen| !seen.subject.starts_with("New order"))
                .map(|seen| seen.orders.len())
                .sum(),
            digests
        ),
        "the overview counts the orders mailed in digests, and the digests"
    );

    // Then orders one at a time: each gets its own email again.
    for _ in 0..3 {
        let (status, answer) = post_order(&stack, &order_body(), None).await;
        assert_eq!(status, 202);
        let id = answer["orderId"].as_str().unwrap().to_owned();
        let order = crate::support::notified_order(&stack, &id).await;
        assert_eq!(
            order.notified.unwrap().digest_of,
            None,
            "{id} got its own email"
        );
        eventually("its email", PIPELINE, || async {
            let email = stack
                .delivered_emails()
                .into_iter()
                .find(|email| email.subject.starts_with(&format!("New order {id}:")));
            email.map(|_| ())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_publishers_at_once_share_one_rate() {
    let stack = stack(false).await;
    let mut observer = Observer::subscribe(&stack).await;
    let ids: Vec<String> = (0..24).map(|n| format!("publishers-{n:04}")).collect();
    for chunk in ids.chunks(10) {
        let mut event = aws_lambda_events::sqs::SqsEvent::default();
        event.records = chunk
            .iter()
            .map(|id| queued(&format!("m-{id}"), id, &order_body().to_string(), None))
            .collect();
        // As SQS would: what failed (a busy moto) comes again.
        for attempt in 1.. {
            let response = stack.ingest().handle(event.clone()).await;
            let failed: Vec<String> = response
                .batch_item_failures
                .into_iter()
                .map(|failure| failure.item_identifier)
                .collect();
            if failed.is_empty() {
                break;
            }
            assert!(attempt < 5, "ingest keeps failing: {failed:?}");
            event
                .records
                .retain(|message| failed.contains(message.message_id.as_ref().unwrap()));
        }
    }
    // The last four orders' records are left out, as if notify had given up
    // on them: an operator asks to send their emails again.
    let mut iterator = None;
    let records = read_stream(&stack, &mut iterator).await;
    let event = local_stack::stream_trigger::event_of(records, &stack.resources.stream_arn);
    let (left_out, handed): (Vec<_>, Vec<_>) = event.records.into_iter().partition(|record| {
        pipeline::notify::new_order(record)
            .ok()
            .flatten()
            .is_some_and(|order| ids[20..].contains(&order.id.to_string()))
    });
    assert_eq!(left_out.len(), 4);
    let operator = dashboard::auth::CurrentUser {
        email: "ops@example.com".to_owned(),
        role: dashboard::auth::Role::Operator,
        csrf: String::new(),
    };
    let resent = stack
        .dashboard
        .resend_emails(&operator, &ids[20..])
        .await
        .unwrap();
    assert_eq!(resent.value.asked.len(), 4);
    let requests = read_stream(&stack, &mut iterator).await;
    let mut resend_batch =
        local_stack::stream_trigger::event_of(requests, &stack.resources.stream_arn);
    resend_batch.records.retain(|record| {
        matches!(
            pipeline::notify::work_of(record),
            Ok(pipeline::notify::Work::Resend(_))
        )
    });
    assert_eq!(resend_batch.records.len(), 4);
    let batches: Vec<aws_lambda_events::dynamodb::Event> = handed
        .chunks(4)
        .map(|records| {
            let mut batch = aws_lambda_events::dynamodb::Event::default();
            batch.records = records.to_vec();
            batch
        })
        .collect();
    assert!(
        batches.len() >= 5,
        "20 orders (and the first admin's items)"
    );

    // Two notify instances (two shards), a third on the resend requests and
    // the dashboard's test notifications, all at once.
    let shard = |offset: usize| {
        let notify = stack.notify();
        let batches: Vec<_> = batches.iter().skip(offset).step_by(2).cloned().collect();
        async move {
            for batch in batches {
                let response = notify.handle(batch).await;
                assert!(response.batch_item_failures.is_empty());
            }
        }
    };
    let test_email = domain::OrderEmail {
        subject: "Test notification".to_owned(),
        body: "a test".to_owned(),
        attributes: Vec::new(),
    };
    let dashboard = async {
        for _ in 0..3 {
            stack
                .dashboard
                .topic
                .publish(&test_email, Duration::from_secs(10))
                .await
                .unwrap();
        }
    };
    let resends = async {
        let response = stack.notify().handle(resend_batch.clone()).await;
        assert!(response.batch_item_failures.is_empty());
    };
    futures::join!(shard(0), shard(1), resends, dashboard);
    tokio::time::sleep(Duration::from_secs(1)).await;
    observer.read(&stack).await;

    assert_within_the_rate(&stack, &observer);
    assert!(stack.suspended_subscriptions().is_empty());
    let mentions = observer.mentions();
    for id in &ids {
        assert_eq!(mentions.get(id), Some(&1), "{id} is in exactly one email");
    }
    assert_eq!(
        observer
            .seen
            .iter()
            .filter(|seen| seen.subject == "Test notification")
            .count(),
        3
    );
    for id in &ids {
        let order = stack
            .orders()
            .get(&domain::OrderId::parse(id.clone()).unwrap())
            .await
            .unwrap()
            .unwrap();
        let notified = order.notified.unwrap();
        let message = observer
            .seen
            .iter()
            .find(|seen| seen.orders.contains(id))
            .unwrap();
        assert_eq!(
            notified.digest_of.map(|n| n as usize),
            (message.orders.len() > 1 || !message.subject.starts_with("New order"))
                .then_some(message.orders.len()),
            "{id} records whether a digest covered it"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_that_ignores_the_schedule_gets_the_address_suspended_as_on_aws() {
    let stack = stack(false).await;
    // Straight to SNS, as a script of someone's own might: 12 at once.
    let publishes = (0..12).map(|n| {
        stack
            .clients
            .sns
            .publish()
            .topic_arn(&stack.resources.topic_arn)
            .subject(format!("Burst {n}"))
            .message("not through the schedule")
            .send()
    });
    for published in futures::future::join_all(publishes).await {
        published.unwrap();
    }
    let suspended = eventually("the suspension", PIPELINE, || async {
        stack.suspended_subscriptions().into_iter().next()
    })
    .await;
    assert_eq!(suspended.email, "owner@example.com");
    assert!(suspended.in_one_second > 10, "{suspended:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered_to_owner = stack
        .delivered_emails()
        .iter()
        .filter(|email| email.to.iter().any(|to| to == "owner@example.com"))
        .count();
    assert_eq!(
        delivered_to_owner, 10,
        "SNS delivers up to its limit, then nothing more"
    );
}
