//! One running stack: resources in the emulator, the order API and the
//! dashboard on one port,
//! ingest and notify fed by their triggers, and the local mailbox.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::task::JoinHandle;

use crate::Clients;
use crate::api;
use crate::mailbox::{DeliveredEmail, Mailbox};
use crate::provision::{Resources, provision};
use crate::sqs_trigger::SqsTrigger;
use crate::stream_trigger::StreamTrigger;
use dashboard::auth::FIRST_ADMIN;
use dashboard::auth::password::Password;
use dashboard::auth::session::SessionKey;
use dashboard::ui;
use dashboard::{Dashboard, DashboardResources};
use domain::Email;
use pipeline::aws::Patience;
use pipeline::queue::{DeadLetterQueue, OrderQueue};
use pipeline::settings::ResourceNames;
use pipeline::store::OrderStore;
use pipeline::topic::OrderTopic;
use pipeline::{Ingest, Notify};

#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Prefix of every resource name, so stacks sharing an emulator never meet.
    pub prefix: String,
    /// Where the order API listens (port 0: any free port).
    pub listen: SocketAddr,
    /// Subscribed to the order topic as an email address.
    pub notification_email: Option<String>,
    /// Print each notification to standard output as an email.
    pub print_emails: bool,
    /// Run ingest and notify; off, accepted orders stay on the queue.
    pub run_pipeline: bool,
    /// The password of the first admin (`auth::FIRST_ADMIN`), created at start.
    pub admin_password: String,
    /// Seals session cookies (at least 32 characters).
    pub session_secret: String,
}

pub struct LocalStack {
    pub clients: Clients,
    pub resources: Resources,
    /// `http://127.0.0.1:PORT`
    pub api_url: String,
    delivered: Arc<Mutex<Vec<DeliveredEmail>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl LocalStack {
    pub async fn start(endpoint: &str, options: StackOptions) -> anyhow::Result<Self> {
        let clients = Clients::for_endpoint(endpoint, Patience::DASHBOARD).await;
        let resources = provision(&clients, ResourceNames::with_prefix(&options.prefix)).await?;
        if let Some(email) = &options.notification_email {
            clients
                .sns
                .subscribe()
                .topic_arn(&resources.topic_arn)
                .protocol("email")
                .endpoint(email)
                .send()
                .await
                .with_context(|| format!("subscribing {email} to the order topic"))?;
        }
        let mailbox = Mailbox::subscribe(
            &clients,
            &format!("{}-local-mailbox", options.prefix),
            &resources.topic_arn,
            options.print_emails,
        )
        .await?;
        let delivered = mailbox.delivered();

        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| {
                format!(
                    "listening on {} (set PORT to use another port)",
                    options.listen
                )
            })?;
        let api_url = format!("http://{}", listener.local_addr()?);
        let dashboard = Dashboard::new(
            &clients.config,
            DashboardResources {
                table: resources.names.table.clone(),
                order_queue_url: resources.queue_url.clone(),
                dead_letter_queue_url: resources.dead_letter_queue_url.clone(),
                topic_arn: resources.topic_arn.clone(),
            },
            SessionKey::from_secret(&options.session_secret)
                .map_err(|problem| anyhow::anyhow!(problem))?,
            // Plain HTTP on loopback: browsers would drop Secure cookies.
            false,
        );
        let admin = Email::parse(FIRST_ADMIN).expect("the first admin's address is valid");
        let password = Password::parse(options.admin_password.clone())
            .map_err(|error| anyhow::anyhow!("ADMIN_PASSWORD {error}"))?;
        dashboard.auth.ensure_admin(&admin, &password).await?;
        let router = api::router(OrderQueue::new(clients.sqs.clone(), &resources.queue_url))
            .merge(ui::router(dashboard));

        let mut stack = Self {
            clients,
            resources,
            api_url,
            delivered,
            tasks: Vec::new(),
        };
        let sqs_trigger = SqsTrigger {
            sqs: stack.clients.sqs.clone(),
            queue_url: stack.resources.queue_url.clone(),
            queue_arn: stack.resources.queue_arn.clone(),
            handler: stack.ingest(),
        };
        let stream_trigger = StreamTrigger {
            streams: stack.clients.streams.clone(),
            sqs: stack.clients.sqs.clone(),
            stream_arn: stack.resources.stream_arn.clone(),
            on_failure_queue_url: stack.resources.notify_failures_queue_url.clone(),
            handler: stack.notify(),
        };
        stack.tasks = vec![
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router).await {
                    tracing::error!(%error, "the order API stopped");
                }
            }),
            tokio::spawn(mailbox.run()),
        ];
        if options.run_pipeline {
            stack.tasks.push(tokio::spawn(sqs_trigger.run()));
            stack.tasks.push(tokio::spawn(stream_trigger.run()));
        }
        Ok(stack)
    }

    pub fn orders(&self) -> OrderStore {
        OrderStore::new(self.clients.dynamodb.clone(), &self.resources.names.table)
    }

    /// ingest as this stack deploys it.
    pub fn ingest(&self) -> Ingest {
        Ingest::new(
            self.orders(),
            DeadLetterQueue::new(
                self.clients.sqs.clone(),
                &self.resources.dead_letter_queue_url,
            ),
        )
    }

    /// notify as this stack deploys it.
    pub fn notify(&self) -> Notify {
        Notify::new(
            self.orders(),
            OrderTopic::new(self.clients.sns.clone(), &self.resources.topic_arn),
        )
    }

    /// The notifications delivered so far.
    pub fn delivered_emails(&self) -> Vec<DeliveredEmail> {
        self.delivered.lock().expect("mailbox lock").clone()
    }

    /// Stops the API and the triggers (the emulator belongs to the caller).
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        self.stop();
    }
}
