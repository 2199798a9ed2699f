//! The dashboard in a real browser (headless Chromium through chromedriver),
//! once with JavaScript and once without: every page, adding and removing a
//! subscription, redriving a dead letter. Screenshots go to
//! `target/screenshots/`.
//!
//! `scripts/check` installs Debian's `chromium` and `chromium-driver` where
//! missing and sets `REQUIRE_BROWSER=1`; elsewhere the test is skipped, with a
//! note, when chromedriver is not installed.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{notified_order, order_body, stack};
use fantoccini::{Client, ClientBuilder, Locator};
use local_stack::LocalStack;
use serde_json::json;

struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_chromedriver() -> Option<(Chromedriver, u16)> {
    let binary = ["chromedriver", "/usr/bin/chromedriver"]
        .into_iter()
        .find(|binary| {
            Command::new(binary)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(binary) = binary else {
        assert!(
            std::env::var_os("REQUIRE_BROWSER").is_none(),
            "chromedriver is not installed: apt-get install chromium chromium-driver (scripts/check does)"
        );
        eprintln!(
            "skipping the browser test: chromedriver is not installed (scripts/check installs it)"
        );
        return None;
    };
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((Chromedriver(child), port))
}

async fn browser(port: u16, javascript: bool) -> Client {
    let profile = tempdir();
    let mut options = json!({
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,900", format!("--user-data-dir={}", profile.display()),
        ]
    });
    if !javascript {
        options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    ClientBuilder::rustls()
        .expect("TLS setup")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session")
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chromium-profile-{}-{}",
        std::process::id(),
        crate::support::unique_prefix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
}

/// Waits for the page after a navigation to show `heading`.
async fn wait_for_heading(client: &Client, heading: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(h1) = client.find(Locator::Css("h1")).await
            && h1.text().await.is_ok_and(|text| text == heading)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected a page headed {heading:?}");
}

async fn click(client: &Client, xpath: &str) {
    client
        .find(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|error| panic!("no element at {xpath}: {error}"))
        .click()
        .await
        .unwrap();
}

/// Waits for the page after a form post to show a flash message saying `expected`.
async fn expect_flash(client: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(flash) = client.find(Locator::Css(".flash")).await {
            last = flash.text().await.unwrap_or_default();
            if last.contains(expected) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected a flash message saying {expected:?}; the last one said {last:?}");
}

async fn walk_through(stack: &LocalStack, client: &Client, mode: &str) {
    let url = |path: &str| format!("{}{path}", stack.api_url);
    let order_id = format!("browser-{mode}-01");
    crate::support::dead_letter(
        stack,
        &order_body().to_string(),
        &order_id,
        "table was unavailable",
    )
    .await;

    // Every page first asks to sign in.
    client.goto(&url("/orders")).await.unwrap();
    let h1 = client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Sign in", "{mode}");
    screenshot(client, &format!("{mode}-login")).await;
    client
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(dashboard::auth::FIRST_ADMIN)
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(crate::support::ADMIN_PASSWORD)
        .await
        .unwrap();
    click(client, "//button[text()='Sign in']").await;
    wait_for_heading(client, "Orders").await;

    for (path, name, heading) in [
        ("/", "overview", "Overview"),
        ("/orders", "orders", "Orders"),
        ("/queues", "queues", "Queues"),
        ("/dead-letters", "dead-letters", "Dead letters"),
        ("/subscriptions", "subscriptions", "Notifications"),
        ("/users", "users", "Users"),
        ("/activity", "activity", "Activity"),
    ] {
        client.goto(&url(path)).await.unwrap();
        let h1 = client
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(h1, heading, "{mode}: {path}");
        screenshot(client, &format!("{mode}-{name}")).await;
    }

    // Add a subscription, then remove it.
    let address = format!("{mode}@example.com");
    client.goto(&url("/subscriptions")).await.unwrap();
    client
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(&address)
        .await
        .unwrap();
    click(client, "//button[text()='Subscribe']").await;
    expect_flash(client, &format!("Subscribed {address}")).await;
    screenshot(client, &format!("{mode}-subscribed")).await;
    let row = format!("//tr[td[text()='{address}']]");
    click(client, &format!("{row}//summary")).await;
    click(client, &format!("{row}//button[text()='Yes, remove']")).await;
    expect_flash(client, &format!("{address} no longer gets order emails")).await;
    assert!(
        client.find(Locator::XPath(&row)).await.is_err(),
        "{mode}: the row is gone"
    );

    // Redrive the dead letter.
    client.goto(&url("/dead-letters")).await.unwrap();
    let letter = format!("//tr[.//a[text()='{order_id}']]");
    click(client, &format!("{letter}//input[@type='checkbox']")).await;
    click(client, "//summary[text()='Redrive selected…']").await;
    click(client, "//button[text()='Yes, redrive selected']").await;
    expect_flash(client, "Sent back to the order queue: 1 dead letter").await;
    screenshot(client, &format!("{mode}-redriven")).await;
    notified_order(stack, &order_id).await;
    let id = order_id;
    client.goto(&url(&format!("/orders/{id}"))).await.unwrap();
    screenshot(client, &format!("{mode}-order")).await;

    click(client, "//button[text()='Sign out']").await;
    expect_flash(client, "Signed out.").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_a_browser_with_and_without_javascript() {
    let Some((_driver, port)) = start_chromedriver() else {
        return;
    };
    let stack = stack(true).await;
    local_stack::demo::post(&stack.api_url, 12).await.unwrap();
    for (javascript, mode) in [(true, "js"), (false, "nojs")] {
        let client = browser(port, javascript).await;
        walk_through(&stack, &client, mode).await;
        client.close().await.unwrap();
    }
}
