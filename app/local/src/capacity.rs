//! A spike played through the documented limits of the chain
//! (docs/capacity.md): API Gateway's token bucket, the SQS trigger's ramp
//! and `MaximumConcurrency`, ingest's batches, DynamoDB on-demand's write
//! throughput, the stream's batching window and the order topic's email
//! schedule. A model in 100 ms steps, not a measurement: its inputs are
//! the template's parameters and the figures docs/capacity.md cites.

use std::collections::VecDeque;

/// Seconds a step.
const STEP: f64 = 0.1;

/// What the template (and the account) set.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    /// `ApiRateLimit`: requests a second the stage refills.
    pub api_rate: f64,
    /// `ApiBurstLimit`: the bucket's size.
    pub api_burst: f64,
    /// `IngestMaximumConcurrency`.
    pub ingest_concurrency: f64,
    /// `OrderEmailsPerSecond`.
    pub emails_per_second: f64,
    /// Write request units a second the table takes (on-demand: 4,000 for a
    /// new table, or its warm throughput).
    pub table_writes: f64,
}

impl Setting {
    pub const DEFAULTS: Setting = Setting {
        name: "template defaults",
        api_rate: 2_500.0,
        api_burst: 5_000.0,
        ingest_concurrency: 25.0,
        emails_per_second: 5.0,
        table_writes: 4_000.0,
    };
    pub const SEED: Setting = Setting {
        name: "before (rate 200, burst 400, 10 ingest)",
        api_rate: 200.0,
        api_burst: 400.0,
        ingest_concurrency: 10.0,
        emails_per_second: 5.0,
        table_writes: 4_000.0,
    };
    pub const FLASH_SALE: Setting = Setting {
        name: "flash sale (rate 5,000, burst 5,000, 50 ingest, the table warmed to 12,000 write units a second)",
        api_rate: 5_000.0,
        api_burst: 5_000.0,
        ingest_concurrency: 50.0,
        emails_per_second: 5.0,
        table_writes: 12_000.0,
    };
}

/// How the functions behave, from the benchmarks and the code.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// Orders in one ingest batch (`BatchSize`).
    pub batch: f64,
    /// Seconds one ingest batch takes (its writes run concurrently).
    pub batch_seconds: f64,
    /// Orders one digest names at most (the stream's `BatchSize`).
    pub digest_orders: f64,
    /// The stream's batching window, seconds.
    pub stream_window: f64,
    /// Table write units an order (ingest's put and notify's mark).
    pub table_units: f64,
    /// How often a refused checkout tries again, seconds, and how many times.
    pub retry_after: f64,
    pub retries: u32,
}

impl Behaviour {
    pub const MEASURED: Behaviour = Behaviour {
        batch: 10.0,
        batch_seconds: 0.06,
        digest_orders: 1_000.0,
        stream_window: 1.0,
        table_units: 2.0,
        retry_after: 1.0,
        retries: 3,
    };
}

/// How orders arrive.
#[derive(Debug, Clone, Copy)]
pub enum Spike {
    /// From 0 to `peak` a second over `ramp` seconds, held for `hold`.
    Ramp { peak: f64, ramp: f64, hold: f64 },
    /// `orders` in the first step.
    AtOnce { orders: f64 },
}

impl Spike {
    fn offered(&self, t: f64) -> f64 {
        match *self {
            Spike::Ramp { peak, ramp, hold } => {
                if t < ramp {
                    peak * t / ramp * STEP
                } else if t < ramp + hold {
                    peak * STEP
                } else {
                    0.0
                }
            }
            Spike::AtOnce { orders } => {
                if t < STEP / 2.0 {
                    orders
                } else {
                    0.0
                }
            }
        }
    }

    fn ends(&self) -> f64 {
        match *self {
            Spike::Ramp { ramp, hold, .. } => ramp + hold,
            Spike::AtOnce { .. } => 0.0,
        }
    }
}

/// One row of the simulation's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub second: f64,
    pub offered_per_second: f64,
    pub accepted_per_second: f64,
    /// Requests answered 429 so far (each retry counted again).
    pub refused: f64,
    /// Orders a checkout gave up on after its retries, so far.
    pub lost: f64,
    pub backlog: f64,
    pub oldest_age: f64,
    pub ingest_instances: f64,
    pub stored_per_second: f64,
    /// Mean seconds from the API's acceptance to the email, of the orders
    /// mailed in this row's interval.
    pub time_to_email: Option<f64>,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Run {
    pub rows: Vec<Row>,
    pub accepted: f64,
    pub lost: f64,
    pub mailed: f64,
    pub worst_age: f64,
    pub drained_at: Option<f64>,
}

/// Orders accepted in one step, in order: (accepted at, how many).
type Cohort = (f64, f64);

fn take(queue: &mut VecDeque<Cohort>, mut wanted: f64) -> Vec<Cohort> {
    let mut taken = Vec::new();
    while wanted > 1e-9 {
        let Some(front) = queue.front_mut() else {
            break;
        };
        let now = front.1.min(wanted);
        taken.push((front.0, now));
        front.1 -= now;
        wanted -= now;
        if front.1 <= 1e-9 {
            queue.pop_front();
        }
    }
    taken
}

fn total(queue: &VecDeque<Cohort>) -> f64 {
    queue.iter().map(|(_, n)| n).sum()
}

/// Plays `spike` through `setting` for `seconds`, a row every `every` seconds.
pub fn simulate(
    setting: Setting,
    behaviour: Behaviour,
    spike: Spike,
    seconds: f64,
    every: f64,
) -> Run {
    let steps = (seconds / STEP).round() as usize;
    let every_steps = ((every / STEP).round() as usize).max(1);
    let mut tokens = setting.api_burst;
    // Refused requests waiting to try again: (due at, tries so far, how many).
    let mut retrying: Vec<(f64, u32, f64)> = Vec::new();
    let mut queue: VecDeque<Cohort> = VecDeque::new();
    let mut stored: VecDeque<Cohort> = VecDeque::new();
    let mut instances: f64 = 0.0;
    let mut next_email = 0.0;
    let mut stream_since: Option<f64> = None;
    let (mut accepted, mut refused, mut lost, mut mailed, mut worst_age) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut drained_at = None;
    let mut rows = Vec::new();
    let (mut offered_row, mut accepted_row, mut stored_row) = (0.0, 0.0, 0.0);
    let (mut email_wait_sum, mut email_count) = (0.0, 0.0);
    for step in 0..steps {
        let t = step as f64 * STEP;
        // API Gateway: a token a request, refilled at the rate, capped at the burst.
        tokens = (tokens + setting.api_rate * STEP).min(setting.api_burst);
        let fresh = spike.offered(t);
        let due: f64 = retrying
            .iter()
            .filter(|(at, _, _)| *at <= t)
            .map(|(_, _, n)| n)
            .sum();
        let mut tries: Vec<(u32, f64)> = vec![(0, fresh)];
        tries.extend(
            retrying
                .iter()
                .filter(|(at, _, _)| *at <= t)
                .map(|(_, tries, n)| (*tries, *n)),
        );
        retrying.retain(|(at, _, _)| *at > t);
        let asking = fresh + due;
        let let_in = asking.min(tokens);
        tokens -= let_in;
        let share = if asking > 0.0 { let_in / asking } else { 0.0 };
        for (tries, n) in tries {
            let turned_away = n * (1.0 - share);
            if turned_away > 1e-9 {
                refused += turned_away;
                if tries < behaviour.retries {
                    retrying.push((t + behaviour.retry_after, tries + 1, turned_away));
                } else {
                    lost += turned_away;
                }
            }
        }
        if let_in > 0.0 {
            queue.push_back((t, let_in));
            accepted += let_in;
        }
        offered_row += fresh;
        accepted_row += let_in;

        // The SQS trigger: five batches at once when messages appear, then up
        // to 300 more instances a minute while they keep coming.
        let backlog = total(&queue);
        if backlog > 0.0 {
            instances = if instances < 5.0 {
                5.0
            } else {
                instances + 300.0 / 60.0 * STEP
            };
        } else {
            instances = (instances - 300.0 / 60.0 * STEP).max(0.0);
        }
        instances = instances.min(setting.ingest_concurrency).min(1_000.0);
        // Ingest: each instance a batch every batch_seconds, within the
        // table's write throughput (notify's marks take their share).
        let ingest_rate = instances * behaviour.batch / behaviour.batch_seconds;
        let table_orders = setting.table_writes / behaviour.table_units;
        let stored_now: f64 = take(&mut queue, (ingest_rate.min(table_orders)) * STEP)
            .into_iter()
            .map(|cohort| {
                stored.push_back(cohort);
                cohort.1
            })
            .sum();
        stored_row += stored_now;

        // Notify: the stream hands a batch when it is full or its window
        // has passed; each batch is a digest, published on the schedule.
        if total(&stored) > 0.0 && stream_since.is_none() {
            stream_since = Some(t);
        }
        while let Some(since) = stream_since {
            let ready =
                total(&stored) >= behaviour.digest_orders || t - since >= behaviour.stream_window;
            if !ready || next_email > t + STEP {
                break;
            }
            let at = next_email.max(t);
            next_email = at + 1.0 / setting.emails_per_second;
            for (accepted_at, n) in take(&mut stored, behaviour.digest_orders) {
                email_wait_sum += (at - accepted_at) * n;
                email_count += n;
                mailed += n;
            }
            stream_since = (total(&stored) > 0.0).then_some(t);
        }

        let oldest = queue.front().map_or(0.0, |(at, _)| t - at);
        worst_age = f64::max(worst_age, oldest);
        if drained_at.is_none()
            && t >= spike.ends()
            && total(&queue) < 1.0
            && total(&stored) < 1.0
            && retrying.is_empty()
        {
            drained_at = Some(t);
        }
        if (step + 1) % every_steps == 0 {
            let span = every_steps as f64 * STEP;
            rows.push(Row {
                second: t + STEP,
                offered_per_second: offered_row / span,
                accepted_per_second: accepted_row / span,
                refused,
                lost,
                backlog: total(&queue),
                oldest_age: oldest,
                ingest_instances: instances,
                stored_per_second: stored_row / span,
                time_to_email: (email_count > 0.0).then(|| email_wait_sum / email_count),
            });
            (offered_row, accepted_row, stored_row) = (0.0, 0.0, 0.0);
            (email_wait_sum, email_count) = (0.0, 0.0);
        }
    }
    Run {
        rows,
        accepted,
        lost,
        mailed,
        worst_age,
        drained_at,
    }
}

/// A run as a Markdown table.
pub fn table(run: &Run) -> String {
    let mut out = String::from(
        "| s | offered/s | accepted/s | 429s so far | lost | backlog | oldest (s) | ingest instances | stored/s | to email (s) |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in &run.rows {
        out.push_str(&format!(
            "| {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {} |\n",
            row.second,
            row.offered_per_second,
            row.accepted_per_second,
            row.refused,
            row.lost,
            row.backlog.max(0.0),
            row.oldest_age,
            row.ingest_instances,
            row.stored_per_second,
            row.time_to_email
                .map_or_else(|| "–".to_owned(), |s| format!("{s:.1}")),
        ));
    }
    out.push_str(&format!(
        "\nAccepted {:.0}, lost after retries {:.0}, mailed {:.0}; oldest message {:.1} s; {}.\n",
        run.accepted,
        run.lost,
        run.mailed,
        run.worst_age,
        run.drained_at.map_or_else(
            || "not drained in the run".to_owned(),
            |t| format!("everything mailed by {t:.0} s")
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALE: Spike = Spike::Ramp {
        peak: 2_000.0,
        ramp: 10.0,
        hold: 600.0,
    };

    #[test]
    fn the_defaults_take_a_flash_sale_without_losing_an_order() {
        let run = simulate(Setting::DEFAULTS, Behaviour::MEASURED, SALE, 700.0, 10.0);
        assert_eq!(run.lost, 0.0);
        assert!(run.worst_age < 5.0, "{}", run.worst_age);
        // Every order offered: 9,900 in the ramp (100 ms steps), 1,200,000 held.
        assert!((run.accepted - 1_209_900.0).abs() < 1.0, "{}", run.accepted);
        assert!(run.drained_at.is_some());
    }

    #[test]
    fn the_seed_setting_refused_most_of_a_flash_sale() {
        let run = simulate(Setting::SEED, Behaviour::MEASURED, SALE, 700.0, 10.0);
        assert!(run.lost > 1_000_000.0, "{}", run.lost);
    }

    #[test]
    fn ten_thousand_at_once_meet_the_burst() {
        let at_once = Spike::AtOnce { orders: 10_000.0 };
        let run = simulate(Setting::DEFAULTS, Behaviour::MEASURED, at_once, 60.0, 1.0);
        assert_eq!(run.lost, 0.0, "retries take the rest");
        assert!((run.mailed - 10_000.0).abs() < 1.0, "{}", run.mailed);
    }

    #[test]
    fn emails_never_go_faster_than_the_schedule() {
        let run = simulate(Setting::FLASH_SALE, Behaviour::MEASURED, SALE, 700.0, 1.0);
        // 5 digests a second of at most 1,000 orders: 2,000 a second fits.
        assert!(
            run.rows
                .iter()
                .all(|row| row.time_to_email.is_none_or(|s| s < 5.0))
        );
    }
}
