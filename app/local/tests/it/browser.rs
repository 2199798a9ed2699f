//! The dashboard in a real browser: headless Chromium through chromedriver.
//!
//! - **Every page as every role**, signed out, viewer, operator and admin,
//!   in light and dark, at 1366×900 and on a 390×844 phone: axe-core finds
//!   no violation, nothing makes the page scroll sideways on the phone, the
//!   console stays clean (no CSP violation, error or warning) and every
//!   password field has its username. Screenshots land in
//!   `target/screenshots/`.
//! - **The tasks, with JavaScript and without**: subscribe and unsubscribe
//!   (by keyboard with JavaScript: the confirmation takes focus (Cancel, where it destroys), Esc closes
//!   it; without, Cancel reloads), fix a dead letter's body and send it back,
//!   redrive the selected dead letters, send an order's email again, find an
//!   order by the first block of its id.
//!
//! `scripts/check` installs Chromium, chromedriver and the pinned axe-core
//! and sets `REQUIRE_BROWSER=1`; elsewhere the test is skipped, with a note,
//! when one of them is missing.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dashboard::auth::Role;
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use local_stack::LocalStack;
use serde_json::{Value, json};

use crate::support::{
    ADMIN_PASSWORD, PLANTED, PLANTED_ELEMENTS, create_user, dead_letter, notified_order,
    order_body, post_order, queued, read_stream, run_notify, sqs_event, stack,
};

/// What the browser test needs besides the stack.
struct Tools {
    _driver: Chromedriver,
    port: u16,
    axe: String,
}

struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Skips (or, under `REQUIRE_BROWSER`, fails) when a tool is missing.
fn missing(what: &str) -> Option<Tools> {
    assert!(
        std::env::var_os("REQUIRE_BROWSER").is_none(),
        "{what} (scripts/check installs it)"
    );
    eprintln!("skipping the browser test: {what}; scripts/check installs it");
    None
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// axe-core's script: `AXE_CORE_JS`, or the copy scripts/check unpacked
/// into `.venv/axe-core-<version>/`.
fn axe_script() -> Option<String> {
    let path = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .or_else(|| {
            std::fs::read_dir(workspace().join(".venv"))
                .ok()?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with("axe-core-"))
                })
                .map(|dir| dir.join("axe.min.js"))
                .find(|file| file.is_file())
        })?;
    std::fs::read_to_string(path).ok()
}

fn tools() -> Option<Tools> {
    let binary = ["chromedriver", "/usr/bin/chromedriver"]
        .into_iter()
        .find(|binary| {
            Command::new(binary)
                .arg("--version")
                .output()
                .is_ok_and(|output| output.status.success())
        });
    let Some(binary) = binary else {
        return missing("chromedriver is not installed");
    };
    let Some(axe) = axe_script() else {
        return missing("axe-core is not in .venv/ and AXE_CORE_JS is not set");
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
    let driver = Chromedriver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Tools {
        _driver: driver,
        port,
        axe,
    })
}

/// A command of chromedriver's own beyond W3C WebDriver: a DevTools
/// protocol call, or reading the browser's console log.
#[derive(Debug)]
enum Chromium {
    DevTools {
        command: &'static str,
        params: Value,
    },
    ConsoleLog,
}

impl WebDriverCompatibleCommand for Chromium {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        match self {
            Self::DevTools { .. } => base_url.join(&format!("session/{session}/goog/cdp/execute")),
            Self::ConsoleLog => base_url.join(&format!("session/{session}/se/log")),
        }
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = match self {
            Self::DevTools { command, params } => json!({"cmd": command, "params": params}),
            Self::ConsoleLog => json!({"type": "browser"}),
        };
        (http::Method::POST, Some(body.to_string()))
    }
}

#[derive(Debug, Clone, Copy)]
enum Scheme {
    Light,
    Dark,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Screen {
    name: &'static str,
    width: u32,
    height: u32,
    phone: bool,
}

const DESKTOP: Screen = Screen {
    name: "desktop",
    width: 1366,
    height: 900,
    phone: false,
};
const PHONE: Screen = Screen {
    name: "phone",
    width: 390,
    height: 844,
    phone: true,
};

struct Browser {
    client: Client,
    base: String,
    javascript: bool,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn open(port: u16, base: &str, javascript: bool) -> Self {
        let profile = tempfile::Builder::new()
            .prefix("chromium-profile-")
            .tempdir()
            .expect("a temporary browser profile");
        let mut options = json!({
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1366,900", format!("--user-data-dir={}", profile.path().display()),
            ]
        });
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        capabilities.insert("goog:loggingPrefs".to_owned(), json!({"browser": "ALL"}));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        Self {
            client,
            base: base.to_owned(),
            javascript,
            _profile: profile,
        }
    }

    fn mode(&self) -> &'static str {
        if self.javascript { "js" } else { "nojs" }
    }

    async fn devtools(&self, command: &'static str, params: Value) {
        self.client
            .issue_cmd(Chromium::DevTools { command, params })
            .await
            .unwrap_or_else(|error| panic!("DevTools {command}: {error}"));
    }

    /// Light or dark, desktop or phone, for this and the following pages.
    async fn emulate(&self, scheme: Scheme, screen: Screen) {
        self.devtools(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": scheme.name()}]}),
        )
        .await;
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": screen.width, "height": screen.height, "deviceScaleFactor": 1, "mobile": screen.phone}),
        )
        .await;
    }

    async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|error| panic!("{}: {path}: {error}", self.mode()));
    }

    async fn heading(&self) -> String {
        match self.client.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The console since the last call (chromedriver hands each entry once).
    async fn console(&self) -> Vec<Value> {
        let entries = self
            .client
            .issue_cmd(Chromium::ConsoleLog)
            .await
            .expect("the console log");
        entries.as_array().cloned().unwrap_or_default()
    }

    async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|error| panic!("a script in the page: {error}"))
    }

    /// axe-core's violations on the page, one line each.
    async fn axe(&self, axe: &str) -> Vec<String> {
        self.script(&format!("{axe}\nreturn typeof axe;")).await;
        let violations = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document)
                  .then((result) => done(result.violations.map((violation) =>
                    `${violation.id} (${violation.impact}): ${violation.help} at ` +
                    violation.nodes.slice(0, 3).map((node) => node.target.join(" ")).join(", "))))
                  .catch((error) => done([`axe failed: ${error}`]));"#,
                Vec::new(),
            )
            .await
            .expect("axe runs");
        serde_json::from_value(violations).unwrap_or_default()
    }

    /// What makes the page wider than the screen, if anything; and whether
    /// it is laid out for the screen's width at all (the viewport meta).
    async fn sideways(&self, screen: Screen) -> Option<String> {
        let answer = self
            .script(
                r#"const page = document.documentElement;
                const width = page.clientWidth;
                if (window.innerWidth !== arguments[0]) return `laid out ${window.innerWidth} px wide, not ${arguments[0]}`;
                if (page.scrollWidth <= width) return null;
                let widest = null;
                for (const element of document.querySelectorAll("body *")) {
                  const right = element.getBoundingClientRect().right;
                  if (right > width + 1 && (!widest || right > widest.right)) {
                    widest = { right, name: element.tagName.toLowerCase() + [...element.classList].map((c) => "." + c).join("") };
                  }
                }
                return `${page.scrollWidth} px wide in ${width} px` + (widest ? `, widest: ${widest.name}` : "");"#
                    .replace("arguments[0]", &screen.width.to_string())
                    .as_str(),
            )
            .await;
        answer.as_str().map(str::to_owned)
    }

    /// Password fields whose form has no username for password managers.
    async fn password_fields_without_username(&self) -> u64 {
        self.script(
            r#"return [...document.querySelectorAll("input[type=password]")]
                .filter((field) => !field.form || !field.form.querySelector("input[autocomplete=username]")).length;"#,
        )
        .await
        .as_u64()
        .unwrap_or(0)
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = workspace().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn find(&self, xpath: &str) -> Element {
        self.client
            .find(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|error| panic!("{}: no element at {xpath}: {error}", self.mode()))
    }

    async fn click(&self, xpath: &str) {
        self.find(xpath).await.click().await.unwrap();
    }

    /// Types into the field at `xpath`.
    async fn type_into(&self, xpath: &str, text: &str) {
        self.find(xpath).await.send_keys(text).await.unwrap();
    }

    /// Presses a key on the element that has the focus.
    async fn press(&self, key: Key) {
        let focused = self
            .client
            .active_element()
            .await
            .expect("a focused element");
        focused
            .send_keys(&char::from(key).to_string())
            .await
            .unwrap();
    }

    /// The focused element's tag and text, to say where the focus is.
    async fn focused(&self) -> String {
        self.script(r#"const e = document.activeElement; return `${e.tagName.toLowerCase()}: ${e.textContent.trim()}`;"#)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits for the focus to reach an element whose `focused` text starts
    /// with `expected`: the page moves focus in event handlers that run after
    /// the key press returns.
    async fn expect_focus(&self, expected: &str, why: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = self.focused().await;
        while !last.starts_with(expected) {
            assert!(Instant::now() < deadline, "{why}: the focus is on {last:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            last = self.focused().await;
        }
    }

    /// Waits for the page after a form post to show a flash message saying `expected`.
    async fn expect_flash(&self, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(flash) = self.client.find(Locator::Css(".flash")).await {
                last = flash.text().await.unwrap_or_default();
                if last.contains(expected) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{}: expected a flash message saying {expected:?}; the last one said {last:?}",
            self.mode()
        );
    }

    async fn sign_in(&self, email: &str) {
        self.go("/login").await;
        self.type_into("//input[@name='email']", email).await;
        self.type_into("//input[@name='password']", ADMIN_PASSWORD)
            .await;
        self.click("//button[text()='Sign in']").await;
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.heading().await != "Overview" {
            assert!(Instant::now() < deadline, "{email} could not sign in");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn sign_out(&self) {
        self.go("/").await;
        self.click("//button[text()='Sign out']").await;
        self.expect_flash("Signed out.").await;
    }
}

/// A page to check, and who may open it.
struct Visit {
    name: &'static str,
    path: String,
    heading: String,
    /// `None`: anyone (signed out included); else the least role.
    needs: Option<Role>,
    status: u16,
}

fn visit(
    name: &'static str,
    path: impl Into<String>,
    heading: impl Into<String>,
    needs: Role,
) -> Visit {
    Visit {
        name,
        path: path.into(),
        heading: heading.into(),
        needs: Some(needs),
        status: 200,
    }
}

struct Fixtures {
    order_id: String,
    dead_letter: String,
}

fn visits(fixtures: &Fixtures) -> Vec<Visit> {
    let id = &fixtures.order_id;
    let letter = &fixtures.dead_letter;
    vec![
        visit("overview", "/", "Overview", Role::Viewer),
        visit("orders", "/orders", "Orders", Role::Viewer),
        visit(
            "search",
            format!("/orders?q={}", &id[..8]),
            "Orders",
            Role::Viewer,
        ),
        Visit {
            status: 400,
            ..visit(
                "bad-filter",
                "/orders?email=not+an+email&from=2026-13-01",
                "Orders",
                Role::Viewer,
            )
        },
        visit(
            "order",
            format!("/orders/{id}"),
            format!("Order {id}"),
            Role::Viewer,
        ),
        visit(
            "not-notified",
            "/not-notified",
            "Not notified",
            Role::Operator,
        ),
        visit("queues", "/queues", "Queues", Role::Operator),
        visit(
            "dead-letters",
            "/dead-letters",
            "Dead letters",
            Role::Operator,
        ),
        visit(
            "dead-letter",
            format!("/dead-letters/{letter}"),
            format!("Dead letter {letter}"),
            Role::Operator,
        ),
        visit(
            "subscriptions",
            "/subscriptions",
            "Notifications",
            Role::Admin,
        ),
        visit("users", "/users", "Users", Role::Admin),
        visit("activity", "/activity", "Activity", Role::Admin),
        visit("products", "/products", "Products", Role::Admin),
        visit(
            "product-edit",
            "/products?sku=GC-500",
            "Products",
            Role::Admin,
        ),
        Visit {
            name: "not-found",
            path: "/no-such-page".to_owned(),
            heading: "404 Not Found".to_owned(),
            needs: None,
            status: 404,
        },
    ]
}

/// Console entries that say something is wrong. A page answered with an
/// error status on purpose makes Chromium log that status; nothing else may
/// appear.
fn console_problems(entries: &[Value], status: u16) -> Vec<String> {
    entries
        .iter()
        .filter(|entry| {
            let message = entry["message"].as_str().unwrap_or_default();
            !(status != 200
                && entry["source"] == "network"
                && message.contains(&format!("status of {status}")))
        })
        .map(|entry| {
            format!(
                "{} {}: {}",
                entry["level"], entry["source"], entry["message"]
            )
        })
        .collect()
}

/// Every page for `role` (signed out: `None`) in both schemes at both sizes.
async fn audit_pages(
    browser: &Browser,
    axe: &str,
    role: Option<Role>,
    visits: &[Visit],
    problems: &mut Vec<String>,
) {
    let who = role.map_or("signed-out", Role::as_str);
    let login = Visit {
        name: "login",
        path: "/login".to_owned(),
        heading: "Sign in".to_owned(),
        needs: None,
        status: 200,
    };
    let mine: Vec<&Visit> = match role {
        None => vec![&login, visits.last().unwrap()],
        Some(_) => visits.iter().collect(),
    };
    for scheme in [Scheme::Light, Scheme::Dark] {
        for screen in [DESKTOP, PHONE] {
            browser.emulate(scheme, screen).await;
            for visit in &mine {
                let allowed = match (visit.needs, role) {
                    (None, _) => true,
                    (Some(needs), Some(role)) => role >= needs,
                    (Some(_), None) => false,
                };
                let (heading, status) = if allowed {
                    (visit.heading.as_str(), visit.status)
                } else {
                    ("Not allowed", 403)
                };
                let at = format!("{who} {} {} {}", visit.path, scheme.name(), screen.name);
                browser.console().await;
                browser.go(&visit.path).await;
                let shown = browser.heading().await;
                if shown != heading {
                    problems.push(format!("{at}: headed {shown:?}, expected {heading:?}"));
                    continue;
                }
                let planted = browser
                    .script(&format!(
                        "return document.querySelectorAll({PLANTED_ELEMENTS:?}).length"
                    ))
                    .await;
                if planted != json!(0) {
                    problems.push(format!("{at}: {planted} elements made of planted markup"));
                }
                for violation in browser.axe(axe).await {
                    problems.push(format!("{at}: axe: {violation}"));
                }
                if screen.phone
                    && let Some(overflow) = browser.sideways(screen).await
                {
                    problems.push(format!("{at}: sideways scrolling: {overflow}"));
                }
                let unnamed = browser.password_fields_without_username().await;
                if unnamed > 0 {
                    problems.push(format!(
                        "{at}: {unnamed} password fields without a username field in their form"
                    ));
                }
                for entry in console_problems(&browser.console().await, status) {
                    problems.push(format!("{at}: console: {entry}"));
                }
                if role == Some(Role::Admin) || !allowed || role.is_none() {
                    let state = if allowed { visit.name } else { "not-allowed" };
                    browser
                        .screenshot(&format!("{who}-{state}-{}-{}", screen.name, scheme.name()))
                        .await;
                }
            }
        }
    }
}

/// Subscribes an address and unsubscribes it again. With JavaScript, by
/// keyboard: the confirmation takes the focus and Esc closes it. Without,
/// Cancel is a link back that closes it.
async fn subscribe_and_unsubscribe(browser: &Browser) {
    let address = format!("{}@example.com", browser.mode());
    browser.go("/subscriptions").await;
    browser
        .type_into(
            "//input[@name='email']",
            &format!("{address}{}", char::from(Key::Enter)),
        )
        .await;
    browser.expect_flash(&format!("Subscribed {address}")).await;
    let row = format!("//tr[th[text()='{address}']]");
    let opener = format!("{row}//summary");
    if browser.javascript {
        browser
            .find(&opener)
            .await
            .send_keys(&char::from(Key::Enter).to_string())
            .await
            .unwrap();
        browser
            .expect_focus(
                "a: Cancel",
                "a destructive confirmation puts the focus on Cancel",
            )
            .await;
        browser.press(Key::Escape).await;
        assert_eq!(
            browser
                .find(&format!("{row}//details"))
                .await
                .attr("open")
                .await
                .unwrap(),
            None,
            "Esc closes it"
        );
        browser
            .expect_focus("summary: Remove", "the focus is back on the opener")
            .await;
        browser.press(Key::Enter).await;
        // The focus moves in a handler that runs after the key press: the
        // second Enter must wait for it, or it closes the confirmation.
        browser
            .expect_focus("a: Cancel", "the confirmation takes the focus again")
            .await;
        // One step back to the confirming button, on purpose.
        let focused = browser.client.active_element().await.unwrap();
        focused
            .send_keys(&format!(
                "{}{}",
                char::from(Key::Shift),
                char::from(Key::Tab)
            ))
            .await
            .unwrap();
        browser
            .expect_focus(
                "button: Yes, remove",
                "Shift+Tab reaches the confirming button",
            )
            .await;
        browser.press(Key::Enter).await;
    } else {
        browser.click(&opener).await;
        browser.click(&format!("{row}//a[text()='Cancel']")).await;
        assert_eq!(
            browser
                .find(&format!("{row}//details"))
                .await
                .attr("open")
                .await
                .unwrap(),
            None,
            "Cancel closes it"
        );
        browser.click(&opener).await;
        browser
            .click(&format!(
                "{row}//button[starts-with(normalize-space(.), 'Yes, remove')]"
            ))
            .await;
    }
    browser
        .expect_flash(&format!("{address} no longer gets order emails"))
        .await;
    assert!(
        browser.client.find(Locator::XPath(&row)).await.is_err(),
        "{}: the row is gone",
        browser.mode()
    );
}

/// Opens a dead letter that ingest refuses, fixes its body, sends it back.
async fn fix_a_dead_letter(stack: &LocalStack, browser: &Browser) {
    let order_id = format!("browser-fix-{}", browser.mode());
    let mut body = order_body();
    body["items"][0]["sku"] = json!("lower case");
    let message_id = dead_letter(
        stack,
        &body.to_string(),
        &order_id,
        "items[0].sku: is not a SKU",
    )
    .await;
    browser.go(&format!("/dead-letters/{message_id}")).await;
    body["items"][0]["sku"] = json!("GC-500");
    let textarea = browser.find("//textarea[@name='body']").await;
    textarea.clear().await.unwrap();
    textarea.send_keys(&body.to_string()).await.unwrap();
    browser
        .click("//button[text()='Send the corrected order']")
        .await;
    browser
        .expect_flash(&format!(
            "The corrected order {order_id} is on the order queue"
        ))
        .await;
    browser
        .screenshot(&format!("task-{}-fixed", browser.mode()))
        .await;
    notified_order(stack, &order_id).await;
}

/// Selects a dead letter and redrives it.
async fn redrive_selected(stack: &LocalStack, browser: &Browser) {
    let order_id = format!("browser-redrive-{}", browser.mode());
    dead_letter(
        stack,
        &order_body().to_string(),
        &order_id,
        "table was unavailable",
    )
    .await;
    browser.go("/dead-letters").await;
    let row = format!("//tr[.//span[contains(., '{order_id}')]]");
    browser
        .click(&format!("{row}//input[@type='checkbox']"))
        .await;
    browser
        .click("//summary[starts-with(normalize-space(.), 'Redrive selected')]")
        .await;
    browser
        .click("//button[starts-with(normalize-space(.), 'Yes, redrive selected')]")
        .await;
    browser
        .expect_flash("Sent back to the order queue: 1 dead letter")
        .await;
    notified_order(stack, &order_id).await;
}

/// Asks notify to send an order's email again: with JavaScript from the
/// list of orders not notified, without from the order's page. `quiet` is a
/// stack without pollers, where an order can stay unmailed.
async fn send_an_email_again(quiet: &LocalStack, browser: &Browser) {
    let order_id = format!("browser-resend-{}", browser.mode());
    let mut stream = None;
    read_stream(quiet, &mut stream).await;
    let twenty_minutes_ago =
        (chrono::Utc::now() - chrono::Duration::minutes(20)).timestamp_millis();
    let event = sqs_event(vec![queued(
        &order_id,
        &order_id,
        &order_body().to_string(),
        Some(twenty_minutes_ago),
    )]);
    quiet.ingest().handle(event).await;
    // notify gave up on it: its record is read past.
    read_stream(quiet, &mut stream).await;
    if browser.javascript {
        browser.go("/not-notified").await;
        browser
            .click("//summary[starts-with(normalize-space(.), 'Send all 1 again')]")
            .await;
        browser
            .click("//button[starts-with(normalize-space(.), 'Yes')]")
            .await;
    } else {
        browser.go(&format!("/orders/{order_id}")).await;
        browser.click("//button[text()='Send the email now']").await;
    }
    browser
        .expect_flash("Asked notify to send the email of 1 order.")
        .await;
    browser
        .screenshot(&format!("task-{}-sent-again", browser.mode()))
        .await;
    run_notify(quiet, &mut stream).await;
    let mailed = || {
        quiet
            .delivered_emails()
            .iter()
            .filter(|email| email.subject.contains(&format!("New order {order_id}:")))
            .count()
    };
    crate::support::eventually("the email", crate::support::PIPELINE, || async {
        (mailed() > 0).then_some(())
    })
    .await;
    assert_eq!(mailed(), 1, "{}: mailed once", browser.mode());
}

/// Finds an order by the first block of its id, as copied from an email.
async fn find_an_order(browser: &Browser, order_id: &str) {
    browser.go("/orders").await;
    browser
        .type_into(
            "//input[@name='q']",
            &format!("{}{}", &order_id[..8], char::from(Key::Enter)),
        )
        .await;
    // The link remembers the search it was found by (`?back=`).
    let link = format!("//a[starts-with(@href, '/orders/{order_id}?back=')]");
    let deadline = Instant::now() + Duration::from_secs(15);
    while browser.client.find(Locator::XPath(&link)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "{}: the search finds {order_id}",
            browser.mode()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.click(&link).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while browser.heading().await != format!("Order {order_id}") {
        assert!(
            Instant::now() < deadline,
            "{}: the order opens",
            browser.mode()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_for_every_role_and_the_tasks_work_with_and_without_javascript() {
    // Chromium beside the fault bursts starves moto on two cores.
    if crate::support::runs_alone() {
        return;
    }
    let Some(tools) = tools() else {
        return;
    };
    let stack = stack(true).await;
    local_stack::demo::seed_catalog(&stack).await.unwrap();
    let ids = local_stack::demo::post(&stack, 12).await.unwrap();
    let order_id = ids[0].clone();
    notified_order(&stack, &order_id).await;
    // Markup an outsider planted in an order and a dead letter: every page
    // below must show it as text.
    let mut planted = order_body();
    planted["customer"]["name"] = json!(PLANTED);
    planted["items"][0]["name"] = json!(PLANTED);
    planted["shippingAddress"]["line1"] = json!(PLANTED);
    let (status, _) = post_order(&stack, &planted, Some("browser-planted")).await;
    assert_eq!(status, 202);
    notified_order(&stack, "browser-planted").await;
    dead_letter(&stack, PLANTED, "browser-planted-letter", PLANTED).await;
    let mut bad = order_body();
    bad["items"][0]["quantity"] = json!(0);
    let fixtures = Fixtures {
        order_id: order_id.clone(),
        dead_letter: dead_letter(
            &stack,
            &bad.to_string(),
            "browser-audit",
            "items[0].quantity: must be at least 1",
        )
        .await,
    };
    let visits = visits(&fixtures);
    let viewer = create_user(&stack, Role::Viewer).await;
    let operator = create_user(&stack, Role::Operator).await;

    let browser = Browser::open(tools.port, &stack.api_url, true).await;
    let mut problems = Vec::new();
    audit_pages(&browser, &tools.axe, None, &visits, &mut problems).await;
    for (email, role) in [
        (viewer.as_str(), Role::Viewer),
        (operator.as_str(), Role::Operator),
        (dashboard::auth::FIRST_ADMIN, Role::Admin),
    ] {
        browser.emulate(Scheme::Light, DESKTOP).await;
        browser.sign_in(email).await;
        audit_pages(&browser, &tools.axe, Some(role), &visits, &mut problems).await;
        browser.emulate(Scheme::Light, DESKTOP).await;
        browser.sign_out().await;
    }
    browser.client.close().await.unwrap();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );

    // Without pollers, so that an order can stay unmailed.
    let quiet = crate::support::stack(false).await;
    for javascript in [true, false] {
        let mut browser = Browser::open(tools.port, &stack.api_url, javascript).await;
        browser.sign_in(dashboard::auth::FIRST_ADMIN).await;
        subscribe_and_unsubscribe(&browser).await;
        fix_a_dead_letter(&stack, &browser).await;
        redrive_selected(&stack, &browser).await;
        find_an_order(&browser, &order_id).await;
        browser.sign_out().await;
        browser.base.clone_from(&quiet.api_url);
        browser.sign_in(dashboard::auth::FIRST_ADMIN).await;
        send_an_email_again(&quiet, &browser).await;
        browser.sign_out().await;
        browser.client.close().await.unwrap();
    }
}

/// A page of another site: the shop's checkout (or anyone's), served on its
/// own origin, posting to the order API from the page's script.
async fn serve_page(listener: tokio::net::TcpListener) {
    let page = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            axum::response::Html(
                "<!doctype html><html lang=\"en\"><title>Checkout</title><h1>Checkout</h1></html>",
            )
        }),
    );
    axum::serve(listener, page).await.expect("the page serves");
}

/// What `fetch` in the page gives for a POST of `body` to the order API:
/// the status and body, or the error a blocked request raises.
async fn post_from_page(browser: &Browser, api: &str, key: &str, body: &Value) -> Value {
    browser
        .client
        .execute_async(
            r#"const [url, key, body, done] = arguments;
            fetch(url, {method: "POST", body,
                        headers: {"Content-Type": "application/json", "Idempotency-Key": key}})
              .then(async (response) => done({status: response.status, body: await response.json()}))
              .catch((error) => done({error: error.name}));"#,
            vec![
                json!(format!("{api}/orders")),
                json!(key),
                json!(body.to_string()),
            ],
        )
        .await
        .expect("the page's script runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_browser_mode_the_checkout_page_places_an_order_and_another_site_cannot() {
    if crate::support::runs_alone() {
        return;
    }
    let Some(tools) = tools() else {
        return;
    };
    let shop = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let other = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let shop_origin = format!("http://127.0.0.1:{}", shop.local_addr().unwrap().port());
    let other_origin = format!("http://127.0.0.1:{}", other.local_addr().unwrap().port());
    tokio::spawn(serve_page(shop));
    tokio::spawn(serve_page(other));
    let stack = crate::support::browser_stack(true, &shop_origin).await;

    // Another site's page: the preflight is blocked, the browser never
    // sends the order, and its script cannot read why.
    let browser = Browser::open(tools.port, &other_origin, true).await;
    browser.go("/").await;
    let blocked = post_from_page(
        &browser,
        &stack.api_url,
        "browser-other-site",
        &order_body(),
    )
    .await;
    assert_eq!(blocked, json!({"error": "TypeError"}), "{blocked}");

    // The shop's checkout page: the order is queued, stored and mailed, and
    // the page reads the answers, refusals included.
    browser
        .client
        .goto(&format!("{shop_origin}/"))
        .await
        .unwrap();
    let placed = post_from_page(
        &browser,
        &stack.api_url,
        "browser-checkout-1",
        &order_body(),
    )
    .await;
    assert_eq!(
        placed,
        json!({"status": 202, "body": {"orderId": "browser-checkout-1"}}),
        "{placed}"
    );
    let mut invalid = order_body();
    invalid["items"][0]["quantity"] = json!(0);
    let refused = post_from_page(&browser, &stack.api_url, "browser-checkout-2", &invalid).await;
    assert_eq!(refused["status"], 400, "{refused}");
    assert_eq!(
        refused["body"]["errors"][0]["field"], "items[0].quantity",
        "{refused}"
    );
    browser.client.close().await.unwrap();

    notified_order(&stack, "browser-checkout-1").await;
    let other_site = domain::OrderId::parse("browser-other-site").unwrap();
    assert!(
        stack.orders().get(&other_site).await.unwrap().is_none(),
        "another site's order was stored"
    );
    assert_eq!(
        crate::support::queue_depth(&stack, &stack.resources.queue_url).await,
        0
    );
}
