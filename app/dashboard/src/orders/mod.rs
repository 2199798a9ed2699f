//! How staff find orders: listings newest first by month partitions (a
//! 92-day range reads at most four, concurrently, stopping when a page is
//! full), filters by status, customer email or email domain, counts, search
//! by id prefix, name prefix or email, the export of a range, and the
//! timestamps the overview's health figures come from. Every read is a key or
//! index query, never a Scan (docs/data-model.md).

pub mod filters;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use domain::order::timestamp;
use domain::search::{fold, initial};
use domain::{Order, OrderId, OrderStatus};
use futures::{StreamExt, TryStreamExt, stream};
use pipeline::aws::AwsError;
use pipeline::store::orders::month_of;
use pipeline::store::orders::schema::{self, Index};
use pipeline::store::{OrderStore, StoreError};
use pipeline::table::{Key, PARTITION_KEY, SORT_KEY};

/// The longest date range one listing covers, in days.
pub const MAX_RANGE_DAYS: i64 = 92;
/// Partitions read at once.
const CONCURRENCY: usize = 4;

/// Where the shop's day that holds `now` began.
pub fn start_of_day(now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    day_start(now.with_timezone(&zone).date_naive(), zone)
}

/// Where a day of the shop's begins (`day` in its time zone).
pub fn day_start(day: chrono::NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight");
    zone.from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| zone.from_utc_datetime(&midnight))
        .with_timezone(&Utc)
}

/// Which orders a listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    All,
    Status(OrderStatus),
    /// By lower-cased customer email.
    Customer(String),
    /// By lower-cased email domain.
    Domain(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Older,
    Newer,
}

/// A position in a listing: go `direction` from the order at (`created_at`, `order_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub direction: Direction,
    pub created_at: String,
    pub order_id: OrderId,
}

impl Cursor {
    fn at(order: &Order, direction: Direction) -> Self {
        Self {
            direction,
            created_at: timestamp(order.created_at),
            order_id: order.id.clone(),
        }
    }

    /// A compact, URL-safe form: `o.<createdAt>.<orderId>` or `n.…`.
    pub fn encode(&self) -> String {
        let direction = match self.direction {
            Direction::Older => "o",
            Direction::Newer => "n",
        };
        format!("{direction}.{}.{}", self.created_at, self.order_id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (direction, rest) = text.split_once('.')?;
        let direction = match direction {
            "o" => Direction::Older,
            "n" => Direction::Newer,
            _ => return None,
        };
        let split = rest.find('Z')? + 1;
        let (created_at, id) = rest.split_at(split);
        DateTime::parse_from_rfc3339(created_at).ok()?;
        Some(Self {
            direction,
            created_at: created_at.to_owned(),
            order_id: OrderId::parse(id.strip_prefix('.')?).ok()?,
        })
    }
}

/// A listing: which orders, between which instants, from where.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Filter,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct OrderPage {
    /// Newest first.
    pub orders: Vec<Order>,
    pub older: Option<Cursor>,
    pub newer: Option<Cursor>,
}

/// How many, exactly or at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exactly(usize),
    AtLeast(usize),
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Newest first.
    pub orders: Vec<Order>,
    pub count: Count,
    /// What was searched for, in words (`orders whose id starts with …`).
    pub described: String,
}

/// When one order went through each stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub received: DateTime<Utc>,
    pub stored: DateTime<Utc>,
    pub notified: Option<DateTime<Utc>>,
    /// The SNS message id of the digest that mailed it, if a digest did.
    pub digest: Option<String>,
}

/// One index partition a query reads.
#[derive(Clone)]
struct Partition {
    index: &'static Index,
    value: String,
}

/// The shards of one logical key (a month, a domain), read together and
/// merged by time.
type Group = Vec<Partition>;

fn group(index: &'static Index, logical: &str) -> Group {
    index
        .partitions_of(logical)
        .into_iter()
        .map(|value| Partition { index, value })
        .collect()
}

/// What a listing reads: groups in reading order (newest first), whose
/// times do not overlap, and the status its orders must have when the
/// index does not say.
struct Plan {
    groups: Vec<Group>,
    only: Option<OrderStatus>,
}

/// An order as a keys-only index gives it: enough to merge shards by time
/// and to read the order by key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    created_at: String,
    order_id: OrderId,
}

impl Entry {
    fn of(item: &HashMap<String, AttributeValue>) -> Result<Self, AwsError> {
        let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok());
        let pk = text(PARTITION_KEY).map(String::as_str).unwrap_or_default();
        let order_id = pipeline::table::order_id_of(pk)
            .and_then(|id| OrderId::parse(id.to_owned()).ok())
            .ok_or_else(|| {
                AwsError::corrupt("reading an order index", format!("bad key {pk:?}"))
            })?;
        Ok(Self {
            created_at: text("createdAt").cloned().unwrap_or_default(),
            order_id,
        })
    }

    /// Whether this entry comes after `position` going `direction`.
    fn beyond(&self, position: &Entry, direction: Direction) -> bool {
        match direction {
            Direction::Older => self < position,
            Direction::Newer => self > position,
        }
    }
}

/// The UTC months an interval touches, newest first.
pub fn months(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let first = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).expect("a month");
    let mut month = NaiveDate::from_ymd_opt(to.year(), to.month(), 1).expect("a month");
    let mut found = Vec::new();
    while month >= first {
        found.push(month_of(
            Utc.from_utc_datetime(&month.and_hms_opt(0, 0, 0).expect("midnight")),
        ));
        match month.checked_sub_months(Months::new(1)) {
            Some(previous) => month = previous,
            None => break,
        }
    }
    found
}

fn unreadable(error: StoreError) -> AwsError {
    match error {
        StoreError::Aws(error) => error,
        StoreError::Corrupt { key, reason } => {
            AwsError::corrupt(format!("reading order {key}"), reason)
        }
    }
}

impl Filter {
    /// The partitions to read for an interval.
    fn plan(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Plan {
        let by_month = |only| Plan {
            groups: months(from, to)
                .iter()
                .map(|month| group(&schema::BY_MONTH, month))
                .collect(),
            only,
        };
        let one = |index, logical: &str| Plan {
            groups: vec![group(index, logical)],
            only: None,
        };
        match self {
            Filter::All => by_month(None),
            Filter::Status(OrderStatus::Notified) => by_month(Some(OrderStatus::Notified)),
            Filter::Status(_) => one(&schema::AWAITING_EMAIL, schema::AWAITING),
            Filter::Customer(email) => one(&schema::BY_CUSTOMER, email),
            Filter::Domain(domain) => one(&schema::BY_DOMAIN, domain),
        }
    }
}

/// Orders read a round when a listing filters by status after reading.
const ROUND: usize = 100;

/// The dashboard's reads of the orders table.
#[derive(Clone, Debug)]
pub struct Orders {
    store: OrderStore,
}

impl Orders {
    pub fn new(store: OrderStore) -> Self {
        Self { store }
    }

    pub async fn get(&self, id: &OrderId) -> Result<Option<Order>, AwsError> {
        self.store.get(id).await.map_err(unreadable)
    }

    fn query(
        &self,
        partition: &Partition,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.store
            .client()
            .query()
            .table_name(self.store.table())
            .index_name(partition.index.name)
            .expression_attribute_names("#p", partition.index.partition_key)
            .expression_attribute_values(":p", AttributeValue::S(partition.value.clone()))
    }

    /// Up to `wanted` entries of one partition between two createdAt
    /// bounds, going `direction`, beyond an optional position. The position
    /// is a bound, not a start key, so one position serves every shard;
    /// entries of its own millisecond are sorted out here.
    async fn read(
        &self,
        partition: &Partition,
        between: &(String, String),
        direction: Direction,
        position: Option<&Entry>,
        wanted: usize,
    ) -> Result<Vec<Entry>, AwsError> {
        let (mut from, mut to) = between.clone();
        if let Some(position) = position {
            match direction {
                Direction::Older => to = to.min(position.created_at.clone()),
                Direction::Newer => from = from.max(position.created_at.clone()),
            }
        }
        if from > to {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .query(partition)
                .key_condition_expression("#p = :p AND createdAt BETWEEN :from AND :to")
                .expression_attribute_values(":from", AttributeValue::S(from.clone()))
                .expression_attribute_values(":to", AttributeValue::S(to.clone()))
                .scan_index_forward(direction == Direction::Newer)
                .limit(i32::try_from(wanted - found.len() + 1).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| AwsError::from_sdk("listing orders", error))?;
            for item in output.items.unwrap_or_default() {
                let entry = Entry::of(&item)?;
                if position.is_none_or(|position| entry.beyond(position, direction)) {
                    found.push(entry);
                }
            }
            start = output.last_evaluated_key.filter(|key| !key.is_empty());
            if found.len() >= wanted || start.is_none() {
                found.truncate(wanted);
                return Ok(found);
            }
        }
    }

    /// Up to `wanted` entries of a plan, in `direction` order from an
    /// optional position: each group's shards read at once and merged, the
    /// next group only when the page is not full.
    async fn entries(
        &self,
        plan: &Plan,
        between: &(String, String),
        direction: Direction,
        position: Option<&Entry>,
        wanted: usize,
    ) -> Result<Vec<Entry>, AwsError> {
        let mut groups: Vec<&Group> = plan.groups.iter().collect();
        if direction == Direction::Newer {
            groups.reverse();
        }
        let mut found = Vec::with_capacity(wanted);
        for group in groups {
            let still = wanted - found.len();
            let reads = group
                .iter()
                .map(|partition| self.read(partition, between, direction, position, still));
            let mut merged: Vec<Entry> = futures::future::try_join_all(reads)
                .await?
                .into_iter()
                .flatten()
                .collect();
            merged.sort();
            if direction == Direction::Older {
                merged.reverse();
            }
            merged.truncate(still);
            found.extend(merged);
            if found.len() >= wanted {
                break;
            }
        }
        Ok(found)
    }

    /// Up to `wanted` orders of a plan, read by key, and whether the plan
    /// has more beyond them. A plan with a status to keep reads in rounds
    /// until enough orders have it.
    async fn orders(
        &self,
        plan: &Plan,
        between: &(String, String),
        direction: Direction,
        mut position: Option<Entry>,
        wanted: usize,
    ) -> Result<Vec<Order>, AwsError> {
        let mut found = Vec::with_capacity(wanted);
        loop {
            let round = match plan.only {
                None => wanted - found.len(),
                Some(_) => ROUND.max(wanted - found.len()),
            };
            let entries = self
                .entries(plan, between, direction, position.as_ref(), round)
                .await?;
            let ids: Vec<OrderId> = entries.iter().map(|entry| entry.order_id.clone()).collect();
            let orders = self.store.get_many(&ids).await.map_err(unreadable)?;
            found.extend(
                orders
                    .into_iter()
                    .filter(|order| plan.only.is_none_or(|status| order.status() == status)),
            );
            if found.len() >= wanted || entries.len() < round {
                found.truncate(wanted);
                return Ok(found);
            }
            position = entries.last().cloned();
        }
    }

    /// A page of a listing, newest first.
    pub async fn list(&self, query: &ListQuery) -> Result<OrderPage, AwsError> {
        let direction = query
            .cursor
            .as_ref()
            .map_or(Direction::Older, |cursor| cursor.direction);
        let position = query.cursor.as_ref().map(|cursor| Entry {
            created_at: cursor.created_at.clone(),
            order_id: cursor.order_id.clone(),
        });
        let between = (timestamp(query.from), timestamp(query.to));
        let plan = query.filter.plan(query.from, query.to);
        let mut found = self
            .orders(&plan, &between, direction, position, query.limit + 1)
            .await?;
        let more = found.len() > query.limit;
        found.truncate(query.limit);
        let came_from_somewhere = query.cursor.is_some();
        Ok(match direction {
            Direction::Older => OrderPage {
                older: more
                    .then(|| found.last().map(|o| Cursor::at(o, Direction::Older)))
                    .flatten(),
                newer: came_from_somewhere
                    .then(|| found.first().map(|o| Cursor::at(o, Direction::Newer)))
                    .flatten(),
                orders: found,
            },
            Direction::Newer => {
                found.reverse();
                OrderPage {
                    newer: more
                        .then(|| found.first().map(|o| Cursor::at(o, Direction::Newer)))
                        .flatten(),
                    older: found.last().map(|o| Cursor::at(o, Direction::Older)),
                    orders: found,
                }
            }
        })
    }

    /// How many entries a plan's partitions hold in a range: one count
    /// query a partition, read concurrently; a partition too large for one
    /// answer (1 MB of index entries) makes it incomplete.
    async fn count_entries(
        &self,
        plan: &Plan,
        between: &(String, String),
    ) -> Result<(usize, bool), AwsError> {
        let counts = plan.groups.iter().flatten().cloned().map(|partition| {
            let between = between.clone();
            async move {
                let output = self
                    .query(&partition)
                    .key_condition_expression("#p = :p AND createdAt BETWEEN :from AND :to")
                    .expression_attribute_values(":from", AttributeValue::S(between.0))
                    .expression_attribute_values(":to", AttributeValue::S(between.1))
                    .select(Select::Count)
                    .send()
                    .await
                    .map_err(|error| AwsError::from_sdk("counting orders", error))?;
                let complete = output.last_evaluated_key.is_none_or(|key| key.is_empty());
                Ok::<_, AwsError>((output.count as usize, complete))
            }
        });
        let counts: Vec<(usize, bool)> = stream::iter(counts)
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok((
            counts.iter().map(|(count, _)| count).sum(),
            counts.iter().all(|(_, complete)| *complete),
        ))
    }

    /// How many orders a listing has. Notified orders are every order of
    /// the range less those awaiting their email (keys-only indexes cannot
    /// filter by status).
    pub async fn count(
        &self,
        filter: &Filter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Count, AwsError> {
        let between = (timestamp(from), timestamp(to));
        let plan = filter.plan(from, to);
        let (total, complete) = self.count_entries(&plan, &between).await?;
        let (total, complete) = match plan.only {
            None => (total, complete),
            Some(_) => {
                let awaiting = Filter::Status(OrderStatus::Stored).plan(from, to);
                let (waiting, waiting_complete) = self.count_entries(&awaiting, &between).await?;
                (total.saturating_sub(waiting), complete && waiting_complete)
            }
        };
        Ok(if complete {
            Count::Exactly(total)
        } else {
            Count::AtLeast(total + 1)
        })
    }

    /// Every order of a listing, oldest first, a round at a time (for export).
    pub fn all(
        &self,
        filter: Filter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl futures::Stream<Item = Result<Order, AwsError>> + Send + use<> {
        let orders = self.clone();
        let between = (timestamp(from), timestamp(to));
        let plan = std::sync::Arc::new(filter.plan(from, to));
        stream::try_unfold(Some(None), move |position: Option<Option<Entry>>| {
            let (orders, between, plan) = (orders.clone(), between.clone(), plan.clone());
            async move {
                let Some(position) = position else {
                    return Ok(None);
                };
                let entries = orders
                    .entries(&plan, &between, Direction::Newer, position.as_ref(), ROUND)
                    .await?;
                let ids: Vec<OrderId> =
                    entries.iter().map(|entry| entry.order_id.clone()).collect();
                let round: Vec<Order> = orders
                    .store
                    .get_many(&ids)
                    .await
                    .map_err(unreadable)?
                    .into_iter()
                    .filter(|order| plan.only.is_none_or(|status| order.status() == status))
                    .collect();
                let next = (entries.len() == ROUND).then(|| entries.last().cloned());
                Ok(Some((round, next)))
            }
        })
        .map_ok(|round| stream::iter(round.into_iter().map(Ok)))
        .try_flatten()
    }

    /// Orders stored at least some time ago and never mailed, oldest first
    /// (the sparse `awaiting-email` index, whatever their age).
    pub async fn not_notified(
        &self,
        stored_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Order>, AwsError> {
        let between = (timestamp(DateTime::UNIX_EPOCH), timestamp(stored_before));
        let plan = Filter::Status(OrderStatus::Stored).plan(DateTime::UNIX_EPOCH, stored_before);
        self.orders(&plan, &between, Direction::Newer, None, limit)
            .await
    }

    /// When each order received between two instants went through each stage.
    pub async fn timings(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Timing>, AwsError> {
        Ok(self
            .all(Filter::All, from, to)
            .try_collect::<Vec<Order>>()
            .await?
            .into_iter()
            .map(|order| Timing {
                received: order.created_at,
                stored: order.stored_at,
                digest: order
                    .notified
                    .as_ref()
                    .filter(|notified| notified.digest_of.is_some())
                    .map(|notified| notified.message_id.clone()),
                notified: order.notified.map(|notified| notified.at),
            })
            .collect())
    }

    /// Orders by what people type: an email (exact), `@domain`, the start of
    /// an order id (at least the first block of a generated one), or the
    /// start of a customer's name; case and accents do not matter.
    pub async fn search(&self, text: &str, limit: usize) -> Result<Found, AwsError> {
        let text = text.trim();
        let recent = (
            Utc::now() - chrono::Duration::days(3650),
            Utc::now() + chrono::Duration::days(1),
        );
        if text.contains('@') {
            let (filter, described) = match customer_filter(text) {
                Some(Filter::Domain(domain)) => {
                    let described = format!("orders from addresses at {domain}");
                    (Filter::Domain(domain), described)
                }
                Some(Filter::Customer(email)) => {
                    let described = format!("orders of {email}");
                    (Filter::Customer(email), described)
                }
                _ => {
                    return Ok(Found {
                        orders: Vec::new(),
                        count: Count::Exactly(0),
                        described: format!(
                            "orders of “{text}”, which is not an email address or @domain"
                        ),
                    });
                }
            };
            let page = self
                .list(&ListQuery {
                    filter,
                    from: recent.0,
                    to: recent.1,
                    cursor: None,
                    limit,
                })
                .await?;
            let count = if page.older.is_some() {
                Count::AtLeast(page.orders.len() + 1)
            } else {
                Count::Exactly(page.orders.len())
            };
            return Ok(Found {
                orders: page.orders,
                count,
                described,
            });
        }
        let id_key = text.to_lowercase();
        let name_key = fold(text);
        let (by_id, by_name) = futures::join!(
            self.prefix(&schema::BY_ID, &id_key, limit + 1),
            self.prefix(&schema::BY_NAME, &name_key, limit + 1),
        );
        let mut orders = by_id?;
        for order in by_name? {
            if !orders.iter().any(|found| found.id == order.id) {
                orders.push(order);
            }
        }
        orders.sort_by_key(|order| std::cmp::Reverse(order.created_at));
        let count = if orders.len() > limit {
            Count::AtLeast(limit + 1)
        } else {
            Count::Exactly(orders.len())
        };
        orders.truncate(limit);
        Ok(Found {
            orders,
            count,
            described: format!("orders whose id or customer name starts with “{text}”"),
        })
    }

    /// Up to `limit` orders of each partition of a prefix index whose
    /// sort key starts with `key`.
    async fn prefix(
        &self,
        index: &'static Index,
        key: &str,
        limit: usize,
    ) -> Result<Vec<Order>, AwsError> {
        if key.is_empty() {
            return Ok(Vec::new());
        }
        let reads = group(index, &initial(key))
            .into_iter()
            .map(|partition| async move {
                let mut found = Vec::new();
                let mut start = None;
                loop {
                    let output = self
                        .query(&partition)
                        .key_condition_expression("#p = :p AND begins_with(#s, :prefix)")
                        .expression_attribute_names("#s", index.sort_key)
                        .expression_attribute_values(":prefix", AttributeValue::S(key.to_owned()))
                        .limit(i32::try_from(limit - found.len()).unwrap_or(i32::MAX))
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .map_err(|error| AwsError::from_sdk("searching orders", error))?;
                    for item in output.items.unwrap_or_default() {
                        found.push(Entry::of(&item)?.order_id);
                    }
                    start = output.last_evaluated_key.filter(|key| !key.is_empty());
                    if found.len() >= limit || start.is_none() {
                        return Ok::<_, AwsError>(found);
                    }
                }
            });
        let ids: Vec<OrderId> = futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .collect();
        self.store.get_many(&ids).await.map_err(unreadable)
    }

    /// Asks notify to mail an order (a `NOTIFY#<orderId>` item, which the
    /// stream hands notify; it mails only an order not notified yet).
    pub async fn request_email(&self, id: &OrderId, by: &str) -> Result<(), AwsError> {
        let now = Utc::now();
        let key = Key::notify_request(id.as_str(), &timestamp(now));
        let item = HashMap::from([
            (PARTITION_KEY.to_owned(), AttributeValue::S(key.pk)),
            (SORT_KEY.to_owned(), AttributeValue::S(key.sk)),
            ("requestedBy".to_owned(), AttributeValue::S(by.to_owned())),
            (
                pipeline::table::EXPIRES_AT.to_owned(),
                AttributeValue::N((now.timestamp() + 7 * 86_400).to_string()),
            ),
        ]);
        self.store
            .client()
            .put_item()
            .table_name(self.store.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("asking for order {id}'s email"), error))?;
        Ok(())
    }
}

/// Whose orders an email filter asks for: `ana@example.com` (that
/// customer) or `@example.com` (every address at that domain); `None` when
/// the text is neither, by the same rules as a customer's address.
pub fn customer_filter(text: &str) -> Option<Filter> {
    let text = text.trim();
    match text.strip_prefix('@') {
        // The domain must be one a customer's address could have.
        Some(domain) => domain::Email::parse(format!("x@{domain}"))
            .ok()
            .map(|_| Filter::Domain(domain.to_lowercase())),
        None => domain::Email::parse(text.to_owned())
            .ok()
            .map(|email| Filter::Customer(email.normalized())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let cursor = Cursor {
            direction: Direction::Newer,
            created_at: "2026-11-24T10:00:00.123Z".to_owned(),
            order_id: OrderId::parse("my-order-id").unwrap(),
        };
        assert_eq!(cursor.encode(), "n.2026-11-24T10:00:00.123Z.my-order-id");
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for bad in [
            "",
            "x.2026",
            "o.nope.id",
            "o.2026-11-24T10:00:00.123Z.bad id",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_range_reads_the_months_it_touches() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        assert_eq!(
            months(at("2026-09-01T00:00:00Z"), at("2026-11-30T23:00:00Z")),
            ["2026-11", "2026-10", "2026-09"]
        );
        assert_eq!(
            months(at("2025-12-31T23:00:00Z"), at("2026-01-01T01:00:00Z")),
            ["2026-01", "2025-12"]
        );
        assert_eq!(
            months(at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z")),
            ["2026-11"]
        );
    }
}
