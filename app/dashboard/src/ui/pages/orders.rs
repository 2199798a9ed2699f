//! `/orders`: newest first, a page at a time, filtered by status, date range
//! or customer email, or one order looked up by id. Each is a key or index
//! query (see docs/data-model.md).

use chrono::{Days, NaiveDate, Utc};
use leptos::prelude::*;

use crate::auth::Viewer;
use crate::ui::access::{Granted, Page};
use leptos_router::hooks::use_query_map;

use super::widgets::{Empty, Heading, Problem, StatusBadge, When};
use crate::ui::dashboard;
use domain::{Email, Order, OrderId, OrderStatus};
use pipeline::store::{Cursor, ListQuery, Listing, MAX_RANGE_DAYS, OrderPage};

pub const PAGE_SIZE: usize = 25;
/// Days shown when no range is given.
const DEFAULT_DAYS: u64 = 30;

/// The listing a URL asks for; every field comes from the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub status: Option<OrderStatus>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub email: String,
    pub order: String,
    pub cursor: Option<Cursor>,
    /// What was wrong with the query string, to show beside the form.
    pub problems: Vec<String>,
}

impl Filters {
    pub fn from_query(get: impl Fn(&str) -> Option<String>, today: NaiveDate) -> Self {
        let mut problems = Vec::new();
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
        let latest = NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date");
        let today = today.clamp(earliest, latest);
        let mut date = |key: &str, default: NaiveDate| match get(key)
            .filter(|v| !v.trim().is_empty())
        {
            None => default,
            Some(text) => match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(day) if (earliest..=latest).contains(&day) => day,
                _ => {
                    problems.push(format!(
                        "{key:?} must be a date like 2026-11-24 between 2000 and 2100; showing the default."
                    ));
                    default
                }
            },
        };
        let to = date("to", today);
        let from = date("from", (to - Days::new(DEFAULT_DAYS - 1)).max(earliest));
        let (from, to) = if from > to { (to, from) } else { (from, to) };
        let from = if (to - from).num_days() >= MAX_RANGE_DAYS as i64 {
            problems.push(format!(
                "A range covers at most {MAX_RANGE_DAYS} days; showing the last {MAX_RANGE_DAYS}."
            ));
            (to - Days::new(MAX_RANGE_DAYS - 1)).max(earliest)
        } else {
            from
        };
        let status = match get("status").as_deref() {
            Some("stored") => Some(OrderStatus::Stored),
            Some("notified") => Some(OrderStatus::Notified),
            _ => None,
        };
        Self {
            status,
            from,
            to,
            email: get("email").unwrap_or_default().trim().to_owned(),
            order: get("order").unwrap_or_default().trim().to_owned(),
            cursor: get("cursor").and_then(|text| Cursor::decode(&text)),
            problems,
        }
    }

    /// This listing's URL at another cursor.
    pub fn href(&self, cursor: Option<&Cursor>) -> String {
        let mut pairs: Vec<(&str, String)> =
            vec![("from", self.from.to_string()), ("to", self.to.to_string())];
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        if !self.email.is_empty() {
            pairs.push(("email", self.email.clone()));
        }
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor.encode()));
        }
        format!(
            "/orders?{}",
            serde_urlencoded::to_string(pairs).expect("pairs of strings encode")
        )
    }
}

/// What the page shows below the form.
#[derive(Debug, Clone)]
pub enum Found {
    Page(OrderPage),
    Lookup {
        id: String,
        order: Option<Box<Order>>,
    },
}

pub async fn load(filters: &Filters) -> Result<Found, String> {
    let orders = &dashboard().orders;
    if !filters.order.is_empty() {
        let order = match OrderId::parse(filters.order.clone()) {
            Ok(id) => orders.get(&id).await.map_err(|e| e.to_string())?,
            Err(_) => None,
        };
        return Ok(Found::Lookup {
            id: filters.order.clone(),
            order: order.map(Box::new),
        });
    }
    let listing = if filters.email.is_empty() {
        filters.status.map_or(Listing::All, Listing::Status)
    } else {
        let email =
            Email::parse(filters.email.clone()).map_err(|e| format!("The customer email {e}."))?;
        Listing::Customer(email.normalized())
    };
    let query = ListQuery {
        listing,
        from: filters.from,
        to: filters.to,
        cursor: filters.cursor.clone(),
        limit: PAGE_SIZE,
    };
    orders
        .list(&query)
        .await
        .map(Found::Page)
        .map_err(|e| e.to_string())
}

pub struct OrdersPage;

impl Page for OrdersPage {
    type Needs = Viewer;
    const PATH: &'static str = "/orders";

    fn view(_granted: Granted<Viewer>) -> AnyView {
        let query = use_query_map().get_untracked();
        let now = Utc::now();
        let filters = Filters::from_query(|key| query.get(key), now.date_naive());
        let form = filters.clone();
        view! {
            <Heading title="Orders".to_owned()/>
            <FilterForm filters=form/>
            {Suspend::new(async move {
                match load(&filters).await {
                    Ok(found) => found_view(found, &filters, now).into_any(),
                    Err(message) => view! { <Problem message=message/> }.into_any(),
                }
            })}
        }
        .into_any()
    }
}

#[component]
fn FilterForm(filters: Filters) -> impl IntoView {
    let status = filters.status;
    view! {
        <div class="filters">
            <form method="get" action="/orders" class="row">
                <label>
                    "Status"
                    <select name="status">
                        <option value="" selected=status.is_none()>"Any"</option>
                        <option value="stored" selected=status == Some(OrderStatus::Stored)>"Stored (not yet notified)"</option>
                        <option value="notified" selected=status == Some(OrderStatus::Notified)>"Notified"</option>
                    </select>
                </label>
                <label>"From" <input type="date" name="from" value=filters.from.to_string()/></label>
                <label>"To" <input type="date" name="to" value=filters.to.to_string()/></label>
                <label>
                    "Customer email"
                    <input type="email" name="email" value=filters.email.clone() placeholder="ana@example.com" autocomplete="off"/>
                </label>
                <button type="submit">"Show"</button>
                <a class="button quiet" href="/orders">"Reset"</a>
            </form>
            <form method="get" action="/orders" class="row lookup">
                <label>
                    "Order id"
                    <input type="search" name="order" value=filters.order.clone() placeholder="e.g. my-first-order" required=true/>
                </label>
                <button type="submit">"Find order"</button>
            </form>
            {filters.problems.into_iter().map(|problem| view! { <p class="hint warn">{problem}</p> }).collect_view()}
        </div>
    }
}

pub fn found_view(
    found: Found,
    filters: &Filters,
    now: chrono::DateTime<Utc>,
) -> impl IntoView + use<> {
    match found {
        Found::Lookup { id, order: Some(order) } => {
            let _ = id;
            orders_table(vec![*order], now).into_any()
        }
        Found::Lookup { id, order: None } => view! {
            <Empty title="No such order">
                "There is no order with the id “" {id} "”. Order ids are the client's Idempotency-Key or the id the API answered with."
            </Empty>
        }
        .into_any(),
        Found::Page(page) if page.orders.is_empty() => {
            let range = format!("between {} and {}", filters.from, filters.to);
            view! {
                <Empty title="No orders here">
                    "No order matches these filters " {range} ". Widen the date range, or "
                    <a href="/orders">"show all recent orders"</a>
                    "."
                </Empty>
            }
            .into_any()
        }
        Found::Page(page) => {
            let newer = page.newer.as_ref().map(|cursor| filters.href(Some(cursor)));
            let older = page.older.as_ref().map(|cursor| filters.href(Some(cursor)));
            let count = page.orders.len();
            view! {
                {orders_table(page.orders, now)}
                <nav class="pager" aria-label="Pages">
                    {match newer {
                        Some(href) => view! { <a class="button" rel="prev" href=href>"← Newer"</a> }.into_any(),
                        None => view! { <span class="button disabled">"← Newer"</span> }.into_any(),
                    }}
                    <span class="muted">{format!("{count} orders, newest first")}</span>
                    {match older {
                        Some(href) => view! { <a class="button" rel="next" href=href>"Older →"</a> }.into_any(),
                        None => view! { <span class="button disabled">"Older →"</span> }.into_any(),
                    }}
                </nav>
            }
            .into_any()
        }
    }
}

/// The orders as a table (the benchmark renders this alone).
pub fn orders_table(orders: Vec<Order>, now: chrono::DateTime<Utc>) -> impl IntoView + use<> {
    view! {
        <div class="table-wrap">
            <table class="orders">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Order"</th>
                        <th scope="col">"Customer"</th>
                        <th scope="col" class="num">"Items"</th>
                        <th scope="col" class="num">"Total"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Notified"</th>
                    </tr>
                </thead>
                <tbody>
                    {orders
                        .into_iter()
                        .map(|order| {
                            let href = format!("/orders/{}", order.id);
                            let notified = if order.notified.is_some() { "yes" } else { "no" };
                            view! {
                                <tr>
                                    <td><When at=order.created_at now=now/></td>
                                    <td><a href=href>{order.id.to_string()}</a></td>
                                    <td>
                                        {order.customer.name.to_string()}
                                        <br/>
                                        <span class="muted small">{order.customer.email.to_string()}</span>
                                    </td>
                                    <td class="num">{order.unit_count()}</td>
                                    <td class="num">{order.formatted_total()}</td>
                                    <td><StatusBadge status=order.status()/></td>
                                    <td>{notified}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn filters(pairs: &[(&str, &str)]) -> Filters {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Filters::from_query(
            |key| map.get(key).cloned(),
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        )
    }

    #[test]
    fn defaults_show_the_last_thirty_days() {
        let filters = filters(&[]);
        assert_eq!(filters.to.to_string(), "2026-11-24");
        assert_eq!(filters.from.to_string(), "2026-10-26");
        assert!(filters.problems.is_empty());
    }

    #[test]
    fn bad_and_reversed_dates_are_corrected_and_said() {
        let swapped = filters(&[("from", "2026-11-20"), ("to", "2026-11-10")]);
        assert_eq!(
            (swapped.from.to_string(), swapped.to.to_string()),
            ("2026-11-10".into(), "2026-11-20".into())
        );
        let bad = filters(&[("from", "yesterday")]);
        assert_eq!(bad.problems.len(), 1);
        let hostile = filters(&[("to", "-262143-01-05"), ("from", "+262142-12-31")]);
        assert_eq!(
            hostile.problems.len(),
            2,
            "out-of-range dates are refused, not a panic"
        );
        let long = filters(&[("from", "2020-01-01")]);
        assert_eq!((long.to - long.from).num_days(), MAX_RANGE_DAYS as i64 - 1);
    }

    #[test]
    fn hrefs_keep_the_filters() {
        let filters = filters(&[("status", "stored"), ("email", "a+b@example.com")]);
        assert_eq!(
            filters.href(None),
            "/orders?from=2026-10-26&to=2026-11-24&status=stored&email=a%2Bb%40example.com"
        );
    }
}
