//! One running stack: resources in the emulator, the order API and the
//! dashboard on one port,
//! ingest and notify fed by their triggers, and the local mailbox.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::task::JoinHandle;

use crate::Clients;
use crate::api::signature::{CheckoutKey, sign_request};
use crate::api::{self, ErrorDetail, OrderApiAuth};
use crate::invocations::InvocationLog;
use crate::mailbox::{DeliveredEmail, Mailbox, Suspension};
use crate::provision::{Resources, provision};
use crate::sqs_trigger::SqsTrigger;
use crate::stream_trigger::StreamTrigger;
use aws_config::SdkConfig;
use dashboard::auth::FIRST_ADMIN;
use dashboard::auth::password::Password;
use dashboard::web::{self, cookies::Cookies};
use dashboard::{Dashboard, DashboardResources};
use domain::Email;
use pipeline::aws::{Aws, CallLog, Patience, config_for_endpoint};
use pipeline::email_rate::{EmailRate, EmailSchedule};
use pipeline::notify::DigestLink;
use pipeline::queue::{DeadLetterQueue, OrderQueue};
use pipeline::settings::ResourceNames;
use pipeline::store::OrderStore;
use pipeline::store::products::ProductStore;
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
    /// How the order API explains a refused body.
    pub api_errors: ErrorDetail,
    /// The shop's time zone, for the dashboard (`SHOP_TIME_ZONE`).
    pub shop_time_zone: chrono_tz::Tz,
    /// Failed messages come back after this rather than the queue's
    /// visibility timeout (tests that inject faults set it).
    pub redeliver_after: Option<std::time::Duration>,
    /// Most messages a second the order topic publishes (`ORDER_EMAILS_PER_SECOND`).
    pub email_rate: EmailRate,
    /// Who may place orders (`ORDER_API_AUTH`): signed callers by default.
    pub order_api_auth: OrderApiAuth,
    /// Orders must match the catalog (`CHECK_PRICES`); browser mode always
    /// checks, whatever this says.
    pub check_prices: bool,
}

impl StackOptions {
    /// A stack for a benchmark: its own prefix, a free port, signed callers,
    /// no email address and the pipeline off unless the benchmark says.
    pub fn benchmark(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            listen: std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
            notification_email: None,
            print_emails: false,
            run_pipeline: false,
            admin_password: "benchmark-password".to_owned(),
            session_secret: "benchmark-session-secret-of-32-characters".to_owned(),
            api_errors: ErrorDetail::FieldLevel,
            shop_time_zone: chrono_tz::Tz::UTC,
            redeliver_after: None,
            email_rate: EmailRate::DEFAULT,
            order_api_auth: OrderApiAuth::Signed(crate::api::signature::CheckoutKey::generate()),
            check_prices: false,
        }
    }
}

/// Every AWS call each deployed part made here: the order API (API
/// Gateway's integration on AWS), ingest, notify and the dashboard; and
/// each invocation the event-source pollers made of ingest and notify.
#[derive(Debug, Clone, Default)]
pub struct CallLogs {
    pub order_api: CallLog,
    pub ingest: CallLog,
    pub notify: CallLog,
    pub dashboard: CallLog,
    pub ingest_invocations: InvocationLog,
    pub notify_invocations: InvocationLog,
}

pub struct LocalStack {
    /// For provisioning, the pollers and the tests.
    pub clients: Clients,
    /// The dashboard's services, as the stack serves them.
    pub dashboard: Dashboard,
    pub calls: CallLogs,
    /// The configuration ingest and notify get, as on Lambda.
    pipeline: SdkConfig,
    pub resources: Resources,
    /// `http://127.0.0.1:PORT`
    pub api_url: String,
    email_rate: EmailRate,
    order_api_auth: OrderApiAuth,
    check_prices: bool,
    shop_time_zone: chrono_tz::Tz,
    delivered: Arc<Mutex<Vec<DeliveredEmail>>>,
    suspended: Arc<Mutex<Vec<Suspension>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl LocalStack {
    pub async fn start(endpoint: &str, mut options: StackOptions) -> anyhow::Result<Self> {
        options.check_prices |= matches!(options.order_api_auth, OrderApiAuth::Browser(_));
        let clients = Clients::for_endpoint(endpoint, Patience::DASHBOARD);
        let calls = CallLogs::default();
        let pipeline = config_for_endpoint(endpoint, Patience::PIPELINE);
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
        let suspended = mailbox.suspended();

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
            &Aws::recording(
                config_for_endpoint(endpoint, Patience::DASHBOARD),
                calls.dashboard.clone(),
            ),
            DashboardResources {
                table: resources.names.table.clone(),
                order_queue_url: resources.queue_url.clone(),
                dead_letter_queue_url: resources.dead_letter_queue_url.clone(),
                topic_arn: resources.topic_arn.clone(),
                zone: options.shop_time_zone,
                email_rate: options.email_rate,
                check_prices: options.check_prices,
            },
        );
        // Plain HTTP on loopback: browsers would drop Secure cookies.
        let cookies = Cookies::new(&options.session_secret, false)?;
        let admin = Email::parse(FIRST_ADMIN).expect("the first admin's address is valid");
        let password = Password::parse(options.admin_password.clone())
            .map_err(|error| anyhow::anyhow!("ADMIN_PASSWORD {error}"))?;
        dashboard.auth.ensure_admin(&admin, &password).await?;
        let order_api = Aws::recording(
            config_for_endpoint(endpoint, Patience::ORDER_API),
            calls.order_api.clone(),
        );
        let router = api::router(
            OrderQueue::new(order_api.sqs(), &resources.queue_url),
            options.api_errors,
            options.order_api_auth.clone(),
        )
        .merge(web::router(dashboard.clone(), cookies));

        let mut stack = Self {
            clients,
            dashboard,
            calls,
            pipeline,
            resources,
            api_url,
            email_rate: options.email_rate,
            order_api_auth: options.order_api_auth,
            check_prices: options.check_prices,
            shop_time_zone: options.shop_time_zone,
            delivered,
            suspended,
            tasks: Vec::new(),
        };
        let sqs_trigger = SqsTrigger {
            sqs: stack.clients.sqs.clone(),
            queue_url: stack.resources.queue_url.clone(),
            queue_arn: stack.resources.queue_arn.clone(),
            handler: stack.ingest(),
            redeliver_after: options.redeliver_after,
            invocations: stack.calls.ingest_invocations.clone(),
        };
        let stream_trigger = StreamTrigger {
            streams: stack.clients.streams.clone(),
            sqs: stack.clients.sqs.clone(),
            stream_arn: stack.resources.stream_arn.clone(),
            on_failure_queue_url: stack.resources.notify_failures_queue_url.clone(),
            handler: stack.notify(),
            invocations: stack.calls.notify_invocations.clone(),
        };
        stack.tasks = vec![
            tokio::spawn(async move {
                crate::http::serve(listener, router).await;
            }),
            tokio::spawn(mailbox.run()),
        ];
        if options.run_pipeline {
            stack.tasks.push(tokio::spawn(sqs_trigger.run()));
            stack.tasks.push(tokio::spawn(stream_trigger.run()));
        }
        Ok(stack)
    }

    /// The orders table, for tests and tools (its calls are not logged).
    pub fn orders(&self) -> OrderStore {
        OrderStore::new(self.clients.dynamodb.clone(), &self.resources.names.table)
    }

    /// The catalog (its calls are not logged).
    pub fn products(&self) -> ProductStore {
        ProductStore::new(self.clients.dynamodb.clone(), &self.resources.names.table)
    }

    /// Whether ingest checks orders against the catalog.
    pub fn checks_prices(&self) -> bool {
        self.check_prices
    }

    /// ingest as this stack deploys it.
    pub fn ingest(&self) -> Ingest {
        let aws = Aws::recording(self.pipeline.clone(), self.calls.ingest.clone());
        let ingest = Ingest::new(
            OrderStore::new(aws.dynamodb(), &self.resources.names.table),
            DeadLetterQueue::new(aws.sqs(), &self.resources.dead_letter_queue_url),
        );
        if self.check_prices {
            ingest.checking_prices(ProductStore::new(
                aws.dynamodb(),
                &self.resources.names.table,
            ))
        } else {
            ingest
        }
    }

    /// notify as this stack deploys it.
    pub fn notify(&self) -> Notify {
        let aws = Aws::recording(self.pipeline.clone(), self.calls.notify.clone());
        Notify::new(
            OrderStore::new(aws.dynamodb(), &self.resources.names.table),
            OrderTopic::new(
                aws.sns(),
                &self.resources.topic_arn,
                self.email_schedule(&aws),
            ),
            DigestLink {
                dashboard_url: Some(self.api_url.clone()),
                zone: self.shop_time_zone,
            },
        )
    }

    /// The order topic's schedule, shared by every publisher of this stack.
    pub fn email_schedule(&self, aws: &Aws) -> EmailSchedule {
        EmailSchedule::new(aws.dynamodb(), &self.resources.names.table, self.email_rate)
    }

    /// Email subscriptions the local mailbox suspended, as SNS would have
    /// for going over its limit (none, in a healthy stack).
    pub fn suspended_subscriptions(&self) -> Vec<Suspension> {
        self.suspended.lock().expect("mailbox lock").clone()
    }

    /// The notifications delivered so far.
    /// The checkout's key, when the order API takes signed callers only.
    pub fn checkout_key(&self) -> Option<&CheckoutKey> {
        match &self.order_api_auth {
            OrderApiAuth::Signed(key) => Some(key),
            OrderApiAuth::Browser(_) => None,
        }
    }

    /// Signs a request to the order API as the shop's checkout does (when
    /// the API takes signed callers only): the one way the tests, the demo
    /// and the benchmarks place orders.
    pub fn sign(&self, request: &mut reqwest::Request) {
        if let Some(key) = self.checkout_key() {
            sign_request(request, key, std::time::SystemTime::now());
        }
    }

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
