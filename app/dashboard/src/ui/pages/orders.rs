//! `/orders`: newest first, a page at a time, filtered by status, a range of
//! the shop's days and a customer's email or email domain, with the total;
//! or what a search finds (an id's start, a name's start, an email, a
//! domain). Each is a key or index query (docs/data-model.md).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::{Order, OrderStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::widgets::{Empty, Heading, Problem, StatusBadge, When};
use crate::auth::Viewer;
use crate::orders::filters::{Filters, SHORTEST_SEARCH};
use crate::orders::{Count, Cursor, Found, ListQuery, OrderPage};
use crate::outcome::ActionError;
use crate::ui::access::{Granted, Page};
use crate::ui::downloads::ORDERS_CSV;
use crate::ui::{dashboard, format};

pub const PAGE_SIZE: usize = 25;

/// A listing's URL at a cursor.
pub fn listing_href(filters: &Filters, cursor: Option<&Cursor>) -> String {
    let mut pairs = filters.pairs();
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.encode()));
    }
    format!(
        "{}?{}",
        OrdersPage::PATH,
        serde_urlencoded::to_string(pairs).expect("pairs of strings encode")
    )
}

/// The CSV export of a listing.
pub fn export_href(filters: &Filters) -> String {
    format!(
        "{ORDERS_CSV}?{}",
        serde_urlencoded::to_string(filters.pairs()).expect("pairs of strings encode")
    )
}

/// The page being shown (path and query), for an order's page to return to.
fn this_listing() -> Option<String> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.uri.path_and_query().map(ToString::to_string))
}

/// An order's page, remembering the listing it was opened from.
fn order_href(id: &domain::OrderId, listing: Option<&str>) -> String {
    match listing {
        Some(listing) if listing != "/orders" => format!(
            "/orders/{id}?{}",
            serde_urlencoded::to_string([("back", listing)]).expect("a string encodes")
        ),
        _ => format!("/orders/{id}"),
    }
}

/// Where an order's "← Orders" link goes: the listing it came from when
/// `back` is one (a path under `/orders` on this site, nothing else), else
/// the newest orders.
pub fn back_to_listing(back: Option<&str>) -> String {
    match back {
        Some(back)
            if (back == "/orders" || back.starts_with("/orders?"))
                && !back.contains(['\\', '\r', '\n']) =>
        {
            back.to_owned()
        }
        _ => "/orders".to_owned(),
    }
}

/// What the page shows below the form.
#[derive(Debug, Clone)]
pub enum Shown {
    Page { page: OrderPage, total: Count },
    Search(Found),
}

pub async fn load(filters: &Filters, zone: Tz) -> Result<Shown, ActionError> {
    let orders = &dashboard().orders;
    if filters.search.chars().count() >= SHORTEST_SEARCH {
        return Ok(Shown::Search(orders.search(&filters.search, 50).await?));
    }
    let Some(filter) = filters.listing() else {
        return Err(ActionError::Invalid {
            message: "The customer email is not an email address.".to_owned(),
            fields: Vec::new(),
        });
    };
    let (from, to) = filters.interval(zone);
    let query = ListQuery {
        filter: filter.clone(),
        from,
        to,
        cursor: filters.cursor.clone(),
        limit: PAGE_SIZE,
    };
    let page = orders.list(&query).await?;
    // A range that fits on its first page is counted already.
    let total = if filters.cursor.is_none() && page.older.is_none() {
        Count::Exactly(page.orders.len())
    } else {
        orders.count(&filter, from, to).await?
    };
    Ok(Shown::Page { page, total })
}

pub struct OrdersPage;

impl Page for OrdersPage {
    type Needs = Viewer;
    const PATH: &'static str = "/orders";

    fn view(_granted: Granted<Viewer>) -> AnyView {
        let query = use_query_map().get_untracked();
        let now = Utc::now();
        let zone = format::zone();
        let today = format::today(zone);
        let filters = Filters::from_query(|key| query.get(key), today);
        let form = filters.clone();
        view! {
            <Heading title="Orders".to_owned()/>
            <FilterForm filters=form zone=zone/>
            {Suspend::new(async move {
                match load(&filters, zone).await {
                    Ok(shown) => shown_view(shown, &filters, now).into_any(),
                    Err(error) => view! { <Problem error=error/> }.into_any(),
                }
            })}
        }
        .into_any()
    }
}

/// A labelled field of the filter form, with its problem tied to it.
fn field(
    label: &'static str,
    name: &'static str,
    input: AnyView,
    problem: Option<String>,
    hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            {input}
            {hint.map(|hint| view! { <span class="hint" id=format!("{name}-hint")>{hint}</span> })}
            {problem.map(|text| view! { <span class="field-problem" id=format!("{name}-problem")>{text}</span> })}
        </label>
    }
}

fn described(name: &str, problem: bool, hint: bool) -> Option<String> {
    let ids: Vec<String> = [(problem, "problem"), (hint, "hint")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, suffix)| format!("{name}-{suffix}"))
        .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

#[component]
fn FilterForm(filters: Filters, zone: Tz) -> impl IntoView {
    let status = filters.status;
    let problem = |name: &str| filters.problem(name);
    let invalid = |name: &str| filters.problem(name).is_some().then_some("true");
    view! {
        <div class="filters">
            <form method="get" action="/orders" class="row" role="search" aria-label="Find orders">
                {field("Find", "q", view! {
                    <input type="search" name="q" value=filters.search.clone() placeholder="id, name, email or @domain"
                        aria-invalid=invalid("q") aria-describedby=described("q", problem("q").is_some(), true)/>
                }.into_any(), problem("q"), Some("The start of an order id or a customer's name; an email; @domain."))}
                <button type="submit">"Search"</button>
            </form>
            <form method="get" action="/orders" class="row" aria-label="Filter orders">
                {field("Status", "status", view! {
                    <select name="status" aria-invalid=invalid("status")>
                        <option value="" selected=status.is_none()>"Any"</option>
                        <option value="stored" selected=status == Some(OrderStatus::Stored)>"Stored, not notified"</option>
                        <option value="notified" selected=status == Some(OrderStatus::Notified)>"Notified"</option>
                    </select>
                }.into_any(), problem("status"), None)}
                {field("From", "from", view! {
                    <input type="date" name="from" value=filters.from.to_string() aria-invalid=invalid("from")
                        aria-describedby=described("from", problem("from").is_some(), false)/>
                }.into_any(), problem("from"), None)}
                {field("To", "to", view! {
                    <input type="date" name="to" value=filters.to.to_string() aria-invalid=invalid("to")
                        aria-describedby=described("to", problem("to").is_some(), false)/>
                }.into_any(), problem("to"), None)}
                {field("Customer email", "email", view! {
                    <input type="text" inputmode="email" name="email" value=filters.email.clone() placeholder="ana@example.com or @example.com" autocomplete="off"
                        aria-invalid=invalid("email") aria-describedby=described("email", problem("email").is_some(), false)/>
                }.into_any(), problem("email"), None)}
                <button type="submit">"Show"</button>
                <a class="button quiet" href="/orders">"Reset"</a>
            </form>
            <nav class="presets" aria-label="Date presets">
                {filters.presets(format::today(zone)).into_iter().map(|(name, preset, current)| view! {
                    <a class="button quiet" href=listing_href(&preset, None) aria-current=current.then_some("true")>{name}</a>
                }).collect_view()}
            </nav>
            {problem("cursor").map(|text| view! { <p class="field-problem">{text}</p> })}
            <p class="muted small">{format!("Days are the shop's ({}).", format::zone_name(zone))}</p>
        </div>
    }
}

fn count_text(count: Count) -> String {
    match count {
        Count::Exactly(1) => "1 order".to_owned(),
        Count::Exactly(n) => format!("{n} orders"),
        Count::AtLeast(n) => format!("More than {} orders", n - 1),
    }
}

pub fn shown_view(shown: Shown, filters: &Filters, now: DateTime<Utc>) -> impl IntoView + use<> {
    match shown {
        Shown::Search(found) => {
            let count = match found.count {
                Count::Exactly(n) => format!("{n} found"),
                Count::AtLeast(n) => format!("more than {} found; the newest are shown", n - 1),
            };
            if found.orders.is_empty() {
                view! {
                    <Empty title="No order found">
                        {format!("No {}. Order ids are the client's Idempotency-Key or the id the API answered with; the first block of a generated id is enough.", found.described)}
                    </Empty>
                }
                .into_any()
            } else {
                view! {
                    <p role="status">{format!("{}: {count}.", sentence(&found.described))}</p>
                    {orders_table(found.orders, now)}
                }
                .into_any()
            }
        }
        Shown::Page { page, .. } if page.orders.is_empty() => {
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
        Shown::Page { page, total } => {
            let newer = page
                .newer
                .as_ref()
                .map(|cursor| listing_href(filters, Some(cursor)));
            let older = page
                .older
                .as_ref()
                .map(|cursor| listing_href(filters, Some(cursor)));
            let shown = page.orders.len();
            view! {
                <div class="listing-head">
                    <p role="status">{format!("{} from {} to {}; {shown} on this page, newest first.", count_text(total), filters.from, filters.to)}</p>
                    <a class="button quiet" href=export_href(filters) download="">"Download CSV"</a>
                </div>
                {orders_table(page.orders, now)}
                <nav class="pager" aria-label="Pages">
                    {match newer {
                        Some(href) => view! { <a class="button" rel="prev" href=href>"← Newer"</a> }.into_any(),
                        None => view! { <span class="button disabled" aria-disabled="true">"← Newer"</span> }.into_any(),
                    }}
                    {match older {
                        Some(href) => view! { <a class="button" rel="next" href=href>"Older →"</a> }.into_any(),
                        None => view! { <span class="button disabled" aria-disabled="true">"Older →"</span> }.into_any(),
                    }}
                </nav>
            }
            .into_any()
        }
    }
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The orders as a table, cards on a phone (the benchmark renders this alone).
pub fn orders_table(orders: Vec<Order>, now: DateTime<Utc>) -> impl IntoView + use<> {
    let listing = this_listing();
    view! {
        <div class="table-wrap">
            <table class="orders stack-on-phone">
                <thead>
                    <tr>
                        <th scope="col">"Order"</th>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Customer"</th>
                        <th scope="col" class="num">"Items"</th>
                        <th scope="col" class="num">"Total"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {orders
                        .into_iter()
                        .map(|order| {
                            let href = order_href(&order.id, listing.as_deref());
                            view! {
                                <tr>
                                    <th scope="row" data-label="Order"><a href=href>{order.id.to_string()}</a></th>
                                    <td data-label="Time"><When at=order.created_at now=now/></td>
                                    <td data-label="Customer">
                                        {order.customer.name.to_string()}
                                        <br/>
                                        <span class="muted small">{order.customer.email.to_string()}</span>
                                    </td>
                                    <td class="num" data-label="Items">{order.unit_count()}</td>
                                    <td class="num" data-label="Total">{order.formatted_total()}</td>
                                    <td data-label="Status"><StatusBadge status=order.status()/></td>
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
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn hrefs_keep_the_filters() {
        let pairs = [("status", "stored"), ("email", "a+b@example.com")];
        let filters = Filters::from_query(
            |key| {
                pairs
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, value)| (*value).to_owned())
            },
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        );
        assert_eq!(
            listing_href(&filters, None),
            "/orders?from=2026-10-26&to=2026-11-24&status=stored&email=a%2Bb%40example.com"
        );
        assert!(export_href(&filters).starts_with("/orders/export.csv?from="));
    }
}
