//! `cargo run`: the whole stack on this machine, on moto: the order API,
//! ingest, notify and the dashboard.
//!
//! Options: `--demo N` posts N demo orders once the stack is up.
//! Environment: `PORT` (default 3000), `NOTIFICATION_EMAIL` (default
//! orders@example.com), `ADMIN_PASSWORD` (the first admin's; generated and
//! printed when unset), `SHOP_TIME_ZONE` (UTC), `ORDER_EMAILS_PER_SECOND`
//! (5: the order topic's most messages a second, 1 to 10), `ORDER_API_AUTH`
//! (`iam`, the default: orders must be signed with Signature Version 4 with
//! the checkout's key, `CHECKOUT_ACCESS_KEY_ID` and
//! `CHECKOUT_SECRET_ACCESS_KEY`, generated and printed when unset; `none`:
//! browser mode, anyone may post from the pages of `ORDER_API_ALLOWED_ORIGINS`
//! or from no page), `CHECK_PRICES` (`true`: orders must be at the
//! catalog's prices; always so in browser mode), `RUST_LOG`. The catalog
//! starts with the sample products when it is empty.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use dashboard::auth::FIRST_ADMIN;
use dashboard::auth::password::Password;
use dashboard::web::cookies::Cookies;
use local_stack::api::OrderApiAuth;
use local_stack::api::signature::{CheckoutKey, REGION, SERVICE};
use local_stack::{LocalStack, Moto, StackOptions, demo};

struct Args {
    demo_orders: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args { demo_orders: 0 };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--demo" => {
                let count = args
                    .next()
                    .context("--demo needs a number of orders, e.g. --demo 20")?;
                parsed.demo_orders = count
                    .parse()
                    .with_context(|| format!("--demo needs a number of orders, not {count:?}"))?;
            }
            "-h" | "--help" => {
                println!(
                    "cargo run [-- --demo N]\n\nStarts moto, the order API, ingest, notify and the local mailbox.\nEnvironment: PORT (3000), NOTIFICATION_EMAIL (orders@example.com), ADMIN_PASSWORD, SHOP_TIME_ZONE (UTC), ORDER_EMAILS_PER_SECOND (5), ORDER_API_AUTH (iam or none), CHECKOUT_ACCESS_KEY_ID and CHECKOUT_SECRET_ACCESS_KEY (iam), ORDER_API_ALLOWED_ORIGINS (none: the checkout pages' origins, comma-separated), CHECK_PRICES (true: orders must match the catalog; always in browser mode), RUST_LOG."
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; try --help"),
        }
    }
    Ok(parsed)
}

fn options() -> anyhow::Result<StackOptions> {
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .with_context(|| format!("PORT must be a port number, not {port:?}"))?,
        Err(_) => 3000,
    };
    let order_api_auth = OrderApiAuth::from_env(CheckoutKey::generate)?;
    Ok(StackOptions {
        prefix: "shop".to_owned(),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        notification_email: Some(
            std::env::var("NOTIFICATION_EMAIL").unwrap_or_else(|_| "orders@example.com".to_owned()),
        ),
        print_emails: true,
        run_pipeline: true,
        admin_password: std::env::var("ADMIN_PASSWORD").unwrap_or_else(|_| Password::generate()),
        // A fresh key each start: local sessions end with the stack.
        session_secret: Cookies::random_secret(),
        api_errors: local_stack::api::ErrorDetail::FieldLevel,
        redeliver_after: None,
        shop_time_zone: pipeline::settings::zone_from_env()?,
        email_rate: pipeline::settings::email_rate_from_env()?,
        check_prices: pipeline::settings::check_prices_from_env()?,
        order_api_auth,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    pipeline::telemetry::init();
    let args = parse_args()?;
    let options = options()?;
    let mut moto = tokio::task::spawn_blocking(Moto::start).await??;
    let stack = LocalStack::start(moto.endpoint(), options.clone()).await?;
    let seeded = demo::seed_catalog(&stack).await?;
    let names = &stack.resources.names;
    let order = r#"{"customer":{"name":"Ana Souza","email":"ana@example.com"},"items":[{"sku":"GC-500","name":"Glass cleaner 500 ml","quantity":2,"unitPrice":1299}],"currency":"USD"}"#;
    let api = &stack.api_url;
    let (callers, try_it) = match &options.order_api_auth {
        OrderApiAuth::Signed(key) => (
            format!(
                "signed with Signature Version 4 (service {SERVICE}, region {REGION}) by the checkout's key:\n              \
                 CHECKOUT_ACCESS_KEY_ID={} CHECKOUT_SECRET_ACCESS_KEY={}",
                key.access_key_id,
                key.secret_access_key()
            ),
            format!(
                "curl -i {api}/orders --aws-sigv4 'aws:amz:{REGION}:{SERVICE}' --user '{}:{}' \\\n    \
                 -H 'Content-Type: application/json' -H 'Idempotency-Key: my-first-order' \\\n    --data-binary '{order}'",
                key.access_key_id,
                key.secret_access_key()
            ),
        ),
        OrderApiAuth::Browser(origins) => (
            format!(
                "browser mode (ORDER_API_AUTH=none): anyone, from pages on {} or from no page",
                origins.to_parameter()
            ),
            format!(
                "curl -i {api}/orders -H 'Content-Type: application/json' -H 'Idempotency-Key: my-first-order' \\\n    -d '{order}'"
            ),
        ),
    };
    println!(
        "\nThe order backbone is running on this machine.\n\n  \
         Dashboard   {api}/  (sign in as {admin}, password {password})\n  \
         Order API   POST {api}/orders, {callers}\n  \
         AWS (moto)  {moto}  table {table}, queue {queue} (DLQ {dlq}), topic {topic}\n  \
         Emails      printed here as sent to {email}\n  \
         Products    {seeded} sample products in the catalog; prices {checked}\n\n\
         Try it:\n  {try_it}\n\n\
         Ctrl-C stops everything.\n",
        admin = FIRST_ADMIN,
        password = options.admin_password,
        moto = moto.endpoint(),
        table = names.table,
        queue = names.queue,
        dlq = names.dead_letter_queue,
        topic = names.topic,
        email = options.notification_email.as_deref().unwrap_or("nobody"),
        checked = if stack.checks_prices() {
            "checked: an order at other prices goes to the dead letters"
        } else {
            "not checked (CHECK_PRICES=true checks them; browser mode always does)"
        },
    );
    if args.demo_orders > 0 {
        let ids = demo::post(&stack, args.demo_orders).await?;
        println!("Posted {} demo orders.", ids.len());
    }
    tokio::select! {
        stopped = tokio::signal::ctrl_c() => {
            stopped.context("waiting for Ctrl-C")?;
            println!("\nStopping…");
        }
        status = moto.exited() => {
            drop(stack);
            bail!(
                "moto, the local AWS, exited ({status}): the table, the queues and the topic lived in its memory and are gone. \
                 The stack stops rather than answer 503 to every order; run `cargo run` again (moto's log: {})",
                moto.log_path().display()
            );
        }
    }
    drop(stack);
    drop(moto);
    Ok(())
}
