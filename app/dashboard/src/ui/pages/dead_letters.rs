//! `/dead-letters`: what the pipeline could not process, grouped by why,
//! with ingest's verdict on each (would it fail again?), and the actions:
//! redrive (all, a group, or the selected; leaving by default those that
//! would fail again), open one to fix its body, delete. A redrive that has
//! more to do shows a "Continue" form, which the page script submits by
//! itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::widgets::{Confirm, Csrf, Empty, Heading, Problem, When};
use crate::DeadLetter;
use crate::auth::Operator;
use crate::dead_letters::{MAX_SHOWN, Tries, Verdict};
use crate::ui::access::{Granted, Page};
use crate::ui::actions::{DeleteDeadLetters, RedriveDeadLetters};
use crate::ui::dashboard;

pub struct DeadLettersPage;

impl Page for DeadLettersPage {
    type Needs = Operator;
    const PATH: &'static str = "/dead-letters";

    fn view(granted: Granted<Operator>) -> AnyView {
        let now = Utc::now();
        let query = use_query_map().get_untracked();
        let group = query.get("group");
        let owner = granted.user().email.clone();
        view! {
            <Heading
                title="Dead letters".to_owned()
                subtitle="Messages the pipeline gave up on, and why. Fix the cause or the body, then send them back to the order queue; or delete them.".to_owned()
            />
            {Suspend::new(continue_form(query.get("redrive"), owner))}
            {Suspend::new(async move {
                let dead_letters = &dashboard().dead_letters;
                let (letters, count) = futures::join!(dead_letters.look(MAX_SHOWN), dead_letters.count());
                match (letters, count) {
                    (Ok(letters), Ok(count)) => dead_letters_view(letters, count, group, now).into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <Problem error=error.into()/> }.into_any(),
                }
            })}
        }
        .into_any()
    }
}

/// The form that goes on with the operator's redrive that has more to do:
/// only one the server kept for this operator (a link names its task id,
/// which nobody else knows), never one a link describes.
async fn continue_form(task_id: Option<String>, owner: String) -> Option<impl IntoView + use<>> {
    let task_id = task_id?;
    let redrive = dashboard().drafts.redrive(&owner, &task_id).await.ok()??;
    Some(view! {
        <form method="post" action=RedriveDeadLetters::PATH class="card continue" data-auto-continue="">
            <Csrf/>
            <input type="hidden" name="task" value=task_id/>
            <p role="status">{format!("A redrive is under way: {} moved so far. It only ever moves messages that were here when it started, each once.", redrive.moved)}</p>
            <button type="submit">"Continue the redrive"</button>
        </form>
    })
}

fn verdict_text(verdict: &Verdict) -> (&'static str, String) {
    match verdict {
        Verdict::Ready => ("badge confirmed", "ready: ingest would store it".to_owned()),
        Verdict::WillFail(reason) => ("badge stored", format!("will fail again: {reason}")),
    }
}

fn tries_text(tries: Tries) -> String {
    match tries {
        Tries::Counted(1) => "given up at the first delivery".to_owned(),
        Tries::Counted(count) => format!("given up after {count} deliveries"),
        Tries::MovedBySqs => "moved by SQS after the queue's maximum of deliveries".to_owned(),
    }
}

pub fn dead_letters_view(
    letters: Vec<DeadLetter>,
    count: u64,
    group: Option<String>,
    now: DateTime<Utc>,
) -> impl IntoView + use<> {
    if letters.is_empty() {
        return view! {
            <Empty title="No dead letters">
                "Every message was processed. When one cannot be, it lands here with the reason, and you can fix it and send it back."
            </Empty>
        }
        .into_any();
    }
    let shown = letters.len();
    let more = (count as usize).saturating_sub(shown);
    let ready = letters
        .iter()
        .filter(|letter| letter.verdict == Verdict::Ready)
        .count();
    // What "Redrive all" moves: those ingest would store, not every one.
    let redrive_all = if more == 0 {
        format!("Redrive the {ready} ingest would store")
    } else {
        "Redrive all that ingest would store".to_owned()
    };
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for letter in &letters {
        let entry = groups.entry(letter.group()).or_default();
        entry.0 += 1;
        if matches!(letter.verdict, Verdict::WillFail(_)) {
            entry.1 += 1;
        }
    }
    view! {
        <p role="status">
            {format!("{count} in the dead-letter queue")}
            {(more > 0).then(|| format!("; the oldest {shown} are shown and grouped"))}
            "."
        </p>
        <section class="card" aria-labelledby="groups">
            <h2 id="groups">"By reason"</h2>
            <div class="table-wrap flat">
                <table class="stack-on-phone">
                    <thead>
                        <tr>
                            <th scope="col">"Why they failed"</th>
                            <th scope="col" class="num">"Messages"</th>
                            <th scope="col">"Sent back now"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {groups.into_iter().map(|(reason, (total, failing))| {
                            let verdict = match failing {
                                0 => "all would be stored".to_owned(),
                                n if n == total => "all will fail again".to_owned(),
                                n => format!("{n} will fail again"),
                            };
                            let select = format!("/dead-letters?{}", serde_urlencoded::to_string([("group", reason.as_str())]).unwrap_or_default());
                            view! {
                                <tr>
                                    <th scope="row" data-label="Why they failed">{reason.clone()}</th>
                                    <td class="num" data-label="Messages">{total}</td>
                                    <td data-label="Sent back now">{verdict}</td>
                                    <td data-label="Actions">
                                        <a class="button quiet" href=select>"Select these"<span class="visually-hidden">{format!(" {total} messages that failed because: {reason}")}</span></a>
                                        // A group that would only fail again has nothing to send back.
                                        {(failing < total).then(|| view! {
                                            " "
                                            <form method="post" action=RedriveDeadLetters::PATH class="inline">
                                                <Csrf/>
                                                <input type="hidden" name="scope" value="reason"/>
                                                <input type="hidden" name="reason" value=reason.clone()/>
                                                <input type="hidden" name="skip_failing" value="true"/>
                                                <Confirm
                                                    open="Redrive these".to_owned()
                                                    on=format!("messages that failed because: {reason}")
                                                    question=format!("Send back the messages of this group that ingest would store ({} of {total})?", total - failing)
                                                    confirm="Yes, redrive".to_owned()
                                                />
                                            </form>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <form method="post" action=RedriveDeadLetters::PATH class="dead-letters">
            <Csrf/>
            <input type="hidden" name="scope" value="ids"/>
            <div class="table-wrap">
                <table class="stack-on-phone">
                    <thead>
                        <tr>
                            <th scope="col"><span class="visually-hidden">"Select"</span></th>
                            <th scope="col">"Message"</th>
                            <th scope="col">"Why it failed"</th>
                            <th scope="col">"Sent back now"</th>
                            <th scope="col">"When"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {letters.into_iter().enumerate().map(|(index, letter)| {
                            let checked = group.as_deref() == Some(letter.group().as_str());
                            letter_row(index, letter, checked, now)
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted small">"Reading this page does not count as a try: the pipeline's tries come from what ingest recorded."</p>
            <div class="actions">
                <label class="check">
                    <input type="checkbox" name="skip_failing" value="true" checked=true/>
                    "Leave the ones ingest would refuse again"
                </label>
                <Confirm
                    open="Redrive selected".to_owned()
                    on="dead letters".to_owned()
                    question="Send the selected messages back to the order queue? Each is copied there first and removed from here only once the copy is safe.".to_owned()
                    confirm="Yes, redrive selected".to_owned()
                />
                <Confirm
                    open="Delete selected".to_owned()
                    on="dead letters".to_owned()
                    question="Delete the selected messages for good? This cannot be undone.".to_owned()
                    confirm="Yes, delete selected".to_owned()
                    danger=true
                    formaction=DeleteDeadLetters::PATH
                />
            </div>
        </form>
        <form method="post" action=RedriveDeadLetters::PATH class="actions">
            <Csrf/>
            <input type="hidden" name="scope" value="all"/>
            <input type="hidden" name="skip_failing" value="true"/>
            <Confirm
                open=redrive_all
                on="dead letters".to_owned()
                question="Send back every dead letter that ingest would store? Each message that is here now moves at most once; messages that fail again, or arrive meanwhile, stay. Large queues move in rounds of 20 seconds, which continue by themselves.".to_owned()
                confirm="Yes, redrive all".to_owned()
            />
        </form>
    }
    .into_any()
}

fn letter_row(
    index: usize,
    letter: DeadLetter,
    checked: bool,
    now: DateTime<Utc>,
) -> impl IntoView + use<> {
    let checkbox_id = format!("pick-{index}");
    let (verdict_class, verdict) = verdict_text(&letter.verdict);
    let href = format!("/dead-letters/{}", letter.message_id);
    view! {
        <tr>
            <td data-label="Select">
                <input type="checkbox" id=checkbox_id.clone() name=format!("ids[{index}]") value=letter.message_id.clone() checked=checked/>
                <label for=checkbox_id class="visually-hidden">{format!("Select message {}", letter.message_id)}</label>
            </td>
            <th scope="row" data-label="Message">
                <a href=href aria-label=format!("Open message {}", letter.message_id)><code class="small">{letter.message_id.clone()}</code></a>
                {letter.order_id.clone().map(|id| view! { <br/><span class="small">"order " {id}</span> })}
            </th>
            <td data-label="Why it failed">
                {match letter.reason.clone() {
                    Some(reason) => view! { <span>{reason}</span> }.into_any(),
                    None => view! { <span class="muted">"No reason attached: SQS moved it here after repeated failed deliveries (a timeout, throttling or a crash). Check ingest's logs."</span> }.into_any(),
                }}
                <br/><span class="muted small">{tries_text(letter.tries)}</span>
            </td>
            <td data-label="Sent back now"><span class=verdict_class>{verdict}</span></td>
            <td data-label="When">
                {letter.failed_at.map(|at| view! { <span class="small">"failed " <When at=at now=now/></span><br/> })}
                {letter.queued_at.map(|at| view! { <span class="small muted">"queued " <When at=at now=now/></span> })}
            </td>
        </tr>
    }
}
