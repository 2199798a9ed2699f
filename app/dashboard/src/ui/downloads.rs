//! Files the dashboard hands out: the orders of a listing as CSV, and a
//! dead letter's body. Each declares its level like a page or an action
//! (`impl Download`) and is registered only through `ui::ENDPOINTS`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use futures::future::BoxFuture;

use super::access::{Denied, Granted};
use crate::Dashboard;
use crate::auth::{Admin, Level, Operator, Viewer};
use crate::orders::filters::Filters;
use crate::request::Visitor;
use crate::spreadsheet;

pub const ORDERS_CSV: &str = "/orders/export.csv";
pub const PRODUCTS_CSV: &str = "/products/export.csv";

/// A file a signed-in user downloads.
pub trait Download: 'static {
    type Needs: Level;
    const PATH: &'static str;
    fn respond(
        dashboard: Dashboard,
        granted: Granted<Self::Needs>,
        request: Request,
    ) -> BoxFuture<'static, Response>;
}

/// Checks the download's level against the visitor, then serves it.
pub fn serve<D: Download>(
    dashboard: Dashboard,
    visitor: Visitor,
    request: Request,
) -> BoxFuture<'static, Response> {
    match Granted::<D::Needs>::for_visitor(&visitor) {
        Ok(granted) => D::respond(dashboard, granted, request),
        Err(Denied::SignIn) => Box::pin(async {
            crate::web::refusal::page(StatusCode::UNAUTHORIZED, "Sign in first.")
        }),
        Err(Denied::NotAllowed { needs, role }) => Box::pin(async move {
            crate::web::refusal::page(
                StatusCode::FORBIDDEN,
                &format!("This needs the {needs} role; you are signed in as {role}."),
            )
        }),
    }
}

fn query(request: &Request) -> HashMap<String, String> {
    request
        .uri()
        .query()
        .and_then(|query| serde_urlencoded::from_str(query).ok())
        .unwrap_or_default()
}

pub const CSV_HEADER: [&str; 15] = [
    "order id",
    "received",
    "status",
    "customer",
    "customer email",
    "currency",
    "sku",
    "product",
    "quantity",
    "unit price",
    "line total",
    "order total",
    "notified",
    "ship to",
    "country",
];

/// One row a line item; the order's own figure (its total) only on its
/// first line, as Shopify's export does, so that summing the column gives
/// the orders' total and not each order counted once a line.
pub fn csv_rows(order: &domain::Order, zone: chrono_tz::Tz) -> Vec<Vec<String>> {
    let at = |time: chrono::DateTime<Utc>| {
        time.with_timezone(&zone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let currency = order.currency;
    let ship_to = order
        .shipping_address
        .as_ref()
        .map(|address| {
            [
                Some(address.line1.to_string()),
                address.line2.as_ref().map(ToString::to_string),
                Some(address.city.to_string()),
                address.region.as_ref().map(ToString::to_string),
                Some(address.postal_code.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
        })
        .unwrap_or_default();
    let country = order
        .shipping_address
        .as_ref()
        .map(|address| address.country.as_str().to_owned())
        .unwrap_or_default();
    order
        .items
        .iter()
        .enumerate()
        .map(|(index, line)| {
            [
                order.id.to_string(),
                at(order.created_at),
                order.status().to_string(),
                order.customer.name.to_string(),
                order.customer.email.to_string(),
                currency.code().to_owned(),
                line.sku.to_string(),
                line.name.to_string(),
                line.quantity.get().to_string(),
                line.unit_price.plain(currency),
                line.subtotal().plain(currency),
                if index == 0 {
                    order.total.plain(currency)
                } else {
                    String::new()
                },
                order
                    .notified
                    .as_ref()
                    .map(|n| at(n.at))
                    .unwrap_or_default(),
                ship_to.clone(),
                country.clone(),
            ]
            .iter()
            .map(|text| spreadsheet::cell(text))
            .collect()
        })
        .collect()
}

/// A CSV file the browser saves as `name`.
fn csv_file(name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub struct OrdersCsv;

impl Download for OrdersCsv {
    type Needs = Viewer;
    const PATH: &'static str = ORDERS_CSV;

    fn respond(
        dashboard: Dashboard,
        _granted: Granted<Viewer>,
        request: Request,
    ) -> BoxFuture<'static, Response> {
        Box::pin(async move {
            let query = query(&request);
            let zone = dashboard.zone;
            let today = Utc::now().with_timezone(&zone).date_naive();
            let filters = Filters::from_query(|key| query.get(key).cloned(), today);
            let Some(filter) = filters.listing() else {
                return crate::web::refusal::page(
                    StatusCode::BAD_REQUEST,
                    "The customer email is not an email address.",
                );
            };
            let (from, to) = filters.interval(zone);
            let name = format!("orders-{}-to-{}.csv", filters.from, filters.to);
            let header_line = {
                let mut bytes = "\u{FEFF}".as_bytes().to_vec();
                bytes.extend(spreadsheet::line(&CSV_HEADER));
                bytes
            };
            let rows = dashboard.orders.all(filter, from, to).map(move |order| {
                order
                    .map(|order| {
                        csv_rows(&order, zone)
                            .iter()
                            .flat_map(|row| spreadsheet::line(row))
                            .collect::<Vec<u8>>()
                    })
                    .map_err(|error| {
                        tracing::error!(%error, "the export stopped part way");
                        std::io::Error::other(error.to_string())
                    })
            });
            let body = futures::stream::once(async move { Ok::<_, std::io::Error>(header_line) })
                .chain(rows);
            csv_file(&name, Body::from_stream(body))
        })
    }
}

pub struct DeadLetterBody;

impl Download for DeadLetterBody {
    type Needs = Operator;
    const PATH: &'static str = "/dead-letters/{message_id}/body";

    fn respond(
        dashboard: Dashboard,
        _granted: Granted<Operator>,
        request: Request,
    ) -> BoxFuture<'static, Response> {
        Box::pin(async move {
            let message_id = request
                .uri()
                .path()
                .trim_start_matches("/dead-letters/")
                .trim_end_matches("/body")
                .to_owned();
            match dashboard.dead_letters.find(&message_id).await {
                Ok(Some(letter)) => (
                    [
                        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"dead-letter-{message_id}.json\""),
                        ),
                    ],
                    letter.body,
                )
                    .into_response(),
                Ok(None) => crate::web::refusal::page(
                    StatusCode::NOT_FOUND,
                    "That dead letter is gone: sent back, deleted, or held by another action for a few seconds.",
                ),
                Err(error) => {
                    let error = crate::outcome::ActionError::from(error);
                    crate::web::refusal::page(error.status(), &error.to_string())
                }
            }
        })
    }
}

/// The catalog as CSV, as the import reads it back.
pub struct ProductsCsv;

impl Download for ProductsCsv {
    type Needs = Admin;
    const PATH: &'static str = PRODUCTS_CSV;

    fn respond(
        dashboard: Dashboard,
        _granted: Granted<Admin>,
        _request: Request,
    ) -> BoxFuture<'static, Response> {
        Box::pin(async move {
            match dashboard.products.list().await {
                Ok(products) => csv_file(
                    "products.csv",
                    Body::from(format!("\u{FEFF}{}", crate::products::to_csv(&products))),
                ),
                Err(error) => crate::web::refusal::page(error.status(), &error.to_string()),
            }
        })
    }
}
