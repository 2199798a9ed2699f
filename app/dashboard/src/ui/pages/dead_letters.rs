//! `/dead-letters`: what the pipeline could not process, why, and the
//! actions ops take on it (redrive selected, redrive all, delete selected).

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::auth::Operator;
use crate::ui::access::{Granted, Page};

use super::widgets::{Csrf, Empty, Heading, Problem, When};
use crate::DeadLetter;
use crate::dead_letters::MAX_SHOWN;
use crate::ui::actions::{DeleteDeadLetters, RedriveAllDeadLetters, RedriveDeadLetters};
use crate::ui::dashboard;

use leptos::server_fn::ServerFn;

pub struct DeadLettersPage;

impl Page for DeadLettersPage {
    type Needs = Operator;
    const PATH: &'static str = "/dead-letters";

    fn view(_granted: Granted<Operator>) -> AnyView {
        let now = Utc::now();
        view! {
        <Heading
            title="Dead letters".to_owned()
            subtitle="Messages the pipeline gave up on. Fix the cause, then send them back to the order queue, or delete them.".to_owned()
        />
        {Suspend::new(async move {
            let dead_letters = &dashboard().dead_letters;
            let (letters, count) = futures::join!(dead_letters.look(MAX_SHOWN), dead_letters.count());
            match (letters, count) {
                (Ok(letters), Ok(count)) => dead_letters_view(letters, count, now).into_any(),
                (Err(error), _) | (_, Err(error)) => view! { <Problem message=error.to_string()/> }.into_any(),
            }
        })}
    }
        .into_any()
    }
}

pub fn dead_letters_view(
    letters: Vec<DeadLetter>,
    count: u64,
    now: DateTime<Utc>,
) -> impl IntoView + use<> {
    if letters.is_empty() {
        return view! {
            <Empty title="No dead letters">
                "Every message was processed. When one cannot be, it lands here with the reason, and you can send it back once the cause is fixed."
            </Empty>
        }
        .into_any();
    }
    let shown = letters.len();
    let more = (count as usize).saturating_sub(shown);
    view! {
        <p>
            {format!("{count} in the dead-letter queue")}
            {(more > 0).then(|| format!("; the first {shown} are shown"))}
            "."
        </p>
        <form method="post" action=RedriveDeadLetters::PATH class="dead-letters">
            <Csrf/>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col"><span class="visually-hidden">"Select"</span></th>
                            <th scope="col">"Message"</th>
                            <th scope="col">"Why it failed"</th>
                            <th scope="col" class="num">"Receives"</th>
                            <th scope="col">"Sent"</th>
                            <th scope="col">"First received"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {letters.into_iter().enumerate().map(|(index, letter)| letter_row(index, letter, now)).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted small">
                "“Receives” counts every delivery, looks at this page included: the dead-letter queue has no redrive policy, so reading never moves a message."
            </p>
            <div class="actions">
                <details class="confirm">
                    <summary class="button">"Redrive selected…"</summary>
                    <p>"Send the selected messages back to the order queue? Each is copied there first and removed from here only once the copy is safe."</p>
                    <button type="submit">"Yes, redrive selected"</button>
                </details>
                <details class="confirm">
                    <summary class="button danger">"Delete selected…"</summary>
                    <p>"Delete the selected messages for good? This cannot be undone."</p>
                    <button type="submit" class="danger" formaction=DeleteDeadLetters::PATH>"Yes, delete selected"</button>
                </details>
            </div>
        </form>
        <form method="post" action=RedriveAllDeadLetters::PATH class="actions">
            <Csrf/>
            <details class="confirm">
                <summary class="button">{format!("Redrive all {count}…")}</summary>
                <p>"Send every dead letter back to the order queue? Large queues move in rounds of 20 seconds; the message after each round says how many moved and how many are left."</p>
                <button type="submit">"Yes, redrive all"</button>
            </details>
        </form>
    }
    .into_any()
}

fn letter_row(index: usize, letter: DeadLetter, now: DateTime<Utc>) -> impl IntoView + use<> {
    let checkbox_id = format!("pick-{index}");
    let body = letter.pretty_body();
    view! {
        <tr>
            <td>
                <input type="checkbox" id=checkbox_id.clone() name=format!("ids[{index}]") value=letter.message_id.clone()/>
                <label for=checkbox_id class="visually-hidden">{format!("Select message {}", letter.message_id)}</label>
            </td>
            <td>
                <code class="small">{letter.message_id.clone()}</code>
                {letter.order_id.map(|id| view! { <br/><span class="small">"order " <a href=format!("/orders/{id}")>{id.clone()}</a></span> })}
                <details>
                    <summary class="small">"Body"</summary>
                    <pre><code>{body}</code></pre>
                </details>
            </td>
            <td>
                {match letter.reason {
                    Some(reason) => view! { <span>{reason}</span> }.into_any(),
                    None => view! { <span class="muted">"No reason attached: SQS moved it here after too many failed deliveries (a timeout, throttling or a crash). Check ingest's logs."</span> }.into_any(),
                }}
                {letter.failed_at.map(|at| view! { <br/><span class="muted small">{format!("given up at {at}")}</span> })}
            </td>
            <td class="num">{letter.receive_count}</td>
            <td>{letter.sent.map(|at| view! { <When at=at now=now/> })}</td>
            <td>{letter.first_received.map(|at| view! { <When at=at now=now/> })}</td>
        </tr>
    }
}
