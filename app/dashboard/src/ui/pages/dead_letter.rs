//! `/dead-letters/{messageId}`: one dead letter, in full; send it back as
//! it is (when ingest would store it) or delete it; and a form to fix its
//! body and send it back under the same order id (so idempotency still
//! holds), only where it has one. "Check" runs ingest's own validation and
//! shows every field at fault without moving anything; what was typed is
//! kept.

use chrono::Utc;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

use super::widgets::{Confirm, Csrf, Empty, Heading, Problem, TextBox, When};
use crate::auth::Operator;
use crate::dead_letters::{DeadLetter, Draft, Tries, Verdict};
use crate::outcome::ActionError;
use crate::request::flash;
use crate::ui::access::{Granted, Page};
use crate::ui::actions::{DeleteDeadLetters, EditDeadLetter, RedriveDeadLetters};
use crate::ui::dashboard;

pub struct DeadLetterPage;

async fn load(
    message_id: &str,
    owner: &str,
) -> Result<Option<(DeadLetter, Option<Draft>)>, ActionError> {
    let dashboard = dashboard();
    let (letter, draft) = futures::join!(
        dashboard.dead_letters.find(message_id),
        dashboard.drafts.get(owner, message_id),
    );
    Ok(letter?.map(|letter| (letter, draft.ok().flatten())))
}

impl Page for DeadLetterPage {
    type Needs = Operator;
    const PATH: &'static str = "/dead-letters/{message_id}";

    fn view(granted: Granted<Operator>) -> AnyView {
        let message_id = use_params_map()
            .get_untracked()
            .get("message_id")
            .unwrap_or_default();
        let owner = granted.user().email.clone();
        let now = Utc::now();
        Suspend::new(async move {
            match load(&message_id, &owner).await {
                Ok(Some((letter, draft))) => letter_view(letter, draft, now).into_any(),
                Ok(None) => {
                    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                        response.set_status(axum::http::StatusCode::NOT_FOUND);
                    }
                    view! {
                        <Heading title="Dead letter not found".to_owned()/>
                        <Empty title="It is not in the dead-letter queue">
                            "It was sent back or deleted, or another action holds it for a few seconds. "
                            <a href="/dead-letters">"Back to the dead letters"</a>
                        </Empty>
                    }
                    .into_any()
                }
                Err(error) => view! { <Heading title="Dead letter".to_owned()/> <Problem error=error/> }.into_any(),
            }
        })
        .into_any()
    }
}

fn letter_view(
    letter: DeadLetter,
    draft: Option<Draft>,
    now: chrono::DateTime<Utc>,
) -> impl IntoView + use<> {
    let problems: Vec<(String, String)> = flash::current()
        .map(|flash| flash.fields)
        .unwrap_or_default();
    let body = draft
        .as_ref()
        .map_or_else(|| letter.pretty_body(), |draft| draft.body.clone());
    let verdict = match &letter.verdict {
        Verdict::Ready => "Ingest would store it as it is.".to_owned(),
        Verdict::WillFail(reason) => format!("Ingest would refuse it again: {reason}"),
    };
    let tries = match letter.tries {
        Tries::Counted(1) => "The pipeline gave up on it at its first delivery.".to_owned(),
        Tries::Counted(count) => {
            format!("The pipeline received it {count} times before it gave up.")
        }
        Tries::MovedBySqs => {
            "SQS moved it here after the queue's maximum of deliveries.".to_owned()
        }
    };
    let download = format!("/dead-letters/{}/body", letter.message_id);
    let has_problems = !problems.is_empty();
    let fixable = letter.order_id.is_some();
    let as_received = letter.pretty_body();
    let ready = letter.verdict == Verdict::Ready;
    let actions = actions_view(&letter.message_id, ready, fixable);
    view! {
        <Heading title=format!("Dead letter {}", letter.message_id)/>
        <p><a href="/dead-letters">"← All dead letters"</a></p>
        <div class="cards">
            <section class="card">
                <h2>"Why it is here"</h2>
                <p>{letter.reason.clone().unwrap_or_else(|| "No reason attached.".to_owned())}</p>
                <p class="small">{tries}</p>
                <p class="small">{verdict}</p>
            </section>
            <section class="card">
                <h2>"Facts"</h2>
                <dl class="figures">
                    <dt>"Order id"</dt><dd>{letter.order_id.clone().unwrap_or_else(|| "none: it did not come through the order API".to_owned())}</dd>
                    <dt>"Queued"</dt><dd>{letter.queued_at.map(|at| view! { <When at=at now=now/> })}</dd>
                    <dt>"Given up"</dt><dd>{letter.failed_at.map(|at| view! { <When at=at now=now/> })}</dd>
                </dl>
                <details>
                    <summary>"Message attributes"</summary>
                    <dl class="figures">
                        {letter.attributes.iter().map(|(name, value)| view! { <dt><code>{name.clone()}</code></dt><dd><code>{value.clone()}</code></dd> }).collect_view()}
                    </dl>
                </details>
                <p><a href=download download="">"Download the body"</a></p>
            </section>
        </div>
        {actions}
        {(!fixable).then(|| view! {
            <section class="card" aria-labelledby="body-heading">
                <h2 id="body-heading">"Body"</h2>
                <pre class="body">{as_received}</pre>
            </section>
        })}
        {fixable.then(|| view! {
            <section class="card" aria-labelledby="fix">
                <h2 id="fix">"Fix and send back"</h2>
                <p class="small">"The corrected body goes to the order queue under the same order id, so a client retry still finds one order. The activity log keeps the body before and after."</p>
                {draft.map(|draft| view! { <p class="small muted">{format!("Your edit from {} is kept below; it has not been sent.", draft.saved_at)}</p> })}
                {has_problems.then(|| view! {
                    <div class="problem" id="body-problems">
                        <h3>"What ingest would refuse"</h3>
                        <ul>{problems.into_iter().map(|(field, message)| view! { <li><code>{field}</code> ": " {message}</li> }).collect_view()}</ul>
                    </div>
                })}
                <form method="post" action=EditDeadLetter::PATH class="stack">
                    <Csrf/>
                    <input type="hidden" name="message_id" value=letter.message_id.clone()/>
                    <input type="hidden" name="return_to" value=format!("/dead-letters/{}", letter.message_id)/>
                    <label for="body">"Body (JSON)"</label>
                    <TextBox id="body" name="body" rows=22 text=body problem=has_problems.then_some("body-problems")/>
                    <div class="actions">
                        <button type="submit" name="check" value="true" class="quiet">"Check"</button>
                        <button type="submit">"Send the corrected order"</button>
                    </div>
                </form>
            </section>
        })}
    }
}

/// Send it back as it is (only when ingest would store it) or delete it.
fn actions_view(message_id: &str, ready: bool, fixable: bool) -> impl IntoView + use<> {
    let on = format!("message {message_id}");
    let advice = match (ready, fixable) {
        (true, _) => "Ingest would store it as it is: send it back, or delete it.",
        (false, true) => {
            "Ingest would refuse it as it is: fix the body below and send it, or delete it."
        }
        (false, false) => {
            "It has no order id, so it can never become an order: download the body if you need it, then delete it."
        }
    };
    view! {
        <section class="card" aria-labelledby="handle">
            <h2 id="handle">"Send back or delete"</h2>
            <p class="small">{advice}</p>
            <div class="actions">
                {ready.then(|| view! {
                    <form method="post" action=RedriveDeadLetters::PATH class="inline">
                        <Csrf/>
                        <input type="hidden" name="scope" value="ids"/>
                        <input type="hidden" name="ids[0]" value=message_id.to_owned()/>
                        <input type="hidden" name="skip_failing" value="true"/>
                        <Confirm
                            open="Redrive".to_owned()
                            on=on.clone()
                            question="Send this message back to the order queue as it is? It is copied there first and removed from here only once the copy is safe.".to_owned()
                            confirm="Yes, redrive it".to_owned()
                        />
                    </form>
                })}
                <form method="post" action=DeleteDeadLetters::PATH class="inline">
                    <Csrf/>
                    <input type="hidden" name="ids[0]" value=message_id.to_owned()/>
                    <Confirm
                        open="Delete".to_owned()
                        on=on
                        question="Delete this message for good? This cannot be undone.".to_owned()
                        confirm="Yes, delete it".to_owned()
                        danger=true
                    />
                </form>
            </div>
        </section>
    }
}
