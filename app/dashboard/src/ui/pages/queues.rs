//! `/queues`: the order queue and its dead-letter queue, in figures.

use leptos::prelude::*;

use crate::auth::Operator;
use crate::ui::access::{Granted, Page};

use super::widgets::{Heading, Problem};
use crate::QueueStats;
use crate::ui::{dashboard, format};

pub struct QueuesPage;

impl Page for QueuesPage {
    type Needs = Operator;
    const PATH: &'static str = "/queues";

    fn view(_granted: Granted<Operator>) -> AnyView {
        view! {
        <Heading
            title="Queues".to_owned()
            subtitle="Orders wait in the order queue until ingest stores them; what cannot be processed ends in the dead-letter queue.".to_owned()
        />
        {Suspend::new(async move {
            let dashboard = dashboard();
            let (queue, dead) = futures::join!(
                dashboard.queues.stats(&dashboard.order_queue_url),
                dashboard.queues.stats(&dashboard.dead_letter_queue_url),
            );
            match (queue, dead) {
                (Ok(queue), Ok(dead)) => queues_view(queue, dead).into_any(),
                (Err(error), _) | (_, Err(error)) => view! { <Problem error=error.into()/> }.into_any(),
            }
        })}
    }
        .into_any()
    }
}

pub fn queues_view(queue: QueueStats, dead: QueueStats) -> impl IntoView + use<> {
    view! {
        <div class="cards" data-refresh="15">
            {queue_card("Order queue", queue, false)}
            {queue_card("Dead-letter queue", dead, true)}
        </div>
    }
}

fn queue_card(title: &'static str, stats: QueueStats, dead_letters: bool) -> impl IntoView + use<> {
    let warn = dead_letters && stats.total() > 0;
    let oldest = stats
        .oldest_message_age
        .map(format::duration)
        .unwrap_or_else(|| "unavailable (CloudWatch has no figure; always so locally)".to_owned());
    let redrive = match stats.max_receive_count {
        Some(count) => format!("to the dead-letter queue after {count} receives"),
        None => "none (messages stay until deleted or expired)".to_owned(),
    };
    view! {
        <section class=if warn { "card warn" } else { "card" }>
            <h2>{title}</h2>
            <p class="muted small"><code>{stats.name.clone()}</code></p>
            <dl class="figures">
                <dt>"Visible"</dt><dd>{stats.visible}</dd>
                <dt>"In flight"</dt><dd>{stats.in_flight}</dd>
                <dt>"Delayed"</dt><dd>{stats.delayed}</dd>
                <dt>"Oldest message"</dt><dd>{oldest}</dd>
                <dt>"Redrive policy"</dt><dd>{redrive}</dd>
                <dt>"Visibility timeout"</dt><dd>{format::duration(stats.visibility_timeout)}</dd>
                <dt>"Retention"</dt><dd>{format::duration(stats.retention)}</dd>
            </dl>
            {dead_letters.then(|| view! { <p><a class="button" href="/dead-letters">"Inspect dead letters"</a></p> })}
        </section>
    }
}
