//! `/products`: the catalog admins keep (admins only). Add or change a
//! product (its SKU names it), take it off sale and back, import a CSV,
//! export the list. With the price check on, ingest takes an order only at
//! these prices.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::widgets::{
    Csrf, Empty, FieldProblem, Heading, Problem, TextBox, invalid, kept, problem_id,
};
use crate::auth::Admin;
use crate::products::CSV_HEADER;
use crate::ui::access::{Granted, Page};
use crate::ui::actions::{ImportProducts, SaveProduct, SetProductActive};
use crate::ui::dashboard;
use crate::ui::downloads::PRODUCTS_CSV;
use domain::catalog::Product;

pub struct ProductsPage;

impl Page for ProductsPage {
    type Needs = Admin;
    const PATH: &'static str = "/products";

    fn view(_granted: Granted<Admin>) -> AnyView {
        let editing = use_query_map()
            .get_untracked()
            .get("sku")
            .unwrap_or_default();
        let checked = dashboard().products.checked;
        let subtitle = if checked {
            "Ingest takes an order only when every line is an active SKU here at this unit price; any other goes to the dead letters with the reason."
        } else {
            "The price check is off (CHECK_PRICES): orders are taken at the prices they carry. Browser mode always turns it on."
        };
        view! {
            <Heading title="Products".to_owned() subtitle=subtitle.to_owned()/>
            {Suspend::new(async move {
                match dashboard().products.list().await {
                    Ok(products) => products_view(products, editing).into_any(),
                    Err(error) => view! { <Problem error=error/> }.into_any(),
                }
            })}
        }
        .into_any()
    }
}

fn products_view(products: Vec<Product>, editing: String) -> impl IntoView + use<> {
    let edited = products
        .iter()
        .find(|product| product.sku.as_str() == editing);
    let value = |field: &str, fallback: Option<String>| kept(SaveProduct::PATH, field).or(fallback);
    let sku = value("sku", edited.map(|product| product.sku.as_str().to_owned()));
    let name = value(
        "name",
        edited.map(|product| product.name.as_str().to_owned()),
    );
    let currency = value(
        "currency",
        edited.map(|product| product.currency.code().to_owned()),
    )
    .unwrap_or_else(|| "USD".to_owned());
    let price = value(
        "unit_price",
        edited.map(|product| product.unit_price.plain(product.currency)),
    );
    let active = edited.is_none_or(|product| product.active);
    let count = products.len();
    view! {
        <section class="card">
            <h2>{if edited.is_some() { "Change a product" } else { "Add or change a product" }}</h2>
            <p class="muted small">"A SKU that is already here is changed; a new one is added."</p>
            <form method="post" action=SaveProduct::PATH class="row">
                <Csrf/>
                <label>
                    "SKU"
                    <input type="text" name="sku" required=true maxlength="32" value=sku autocomplete="off"
                        aria-invalid=invalid(SaveProduct::PATH, "sku") aria-describedby=problem_id(SaveProduct::PATH, "sku")/>
                    <FieldProblem action=SaveProduct::PATH field="sku"/>
                </label>
                <label>
                    "Name"
                    <input type="text" name="name" required=true maxlength="200" value=name autocomplete="off"
                        aria-invalid=invalid(SaveProduct::PATH, "name") aria-describedby=problem_id(SaveProduct::PATH, "name")/>
                    <FieldProblem action=SaveProduct::PATH field="name"/>
                </label>
                <label>
                    "Currency"
                    <input type="text" name="currency" required=true maxlength="3" size="4" value=currency autocomplete="off"
                        aria-invalid=invalid(SaveProduct::PATH, "currency") aria-describedby=problem_id(SaveProduct::PATH, "currency")/>
                    <FieldProblem action=SaveProduct::PATH field="currency"/>
                </label>
                <label>
                    "Unit price"
                    <input type="text" name="unit_price" required=true inputmode="decimal" size="10" value=price autocomplete="off"
                        aria-invalid=invalid(SaveProduct::PATH, "unit_price") aria-describedby=problem_id(SaveProduct::PATH, "unit_price")/>
                    <FieldProblem action=SaveProduct::PATH field="unit_price"/>
                </label>
                <label class="inline">
                    <input type="checkbox" name="active" value="true" checked=active/>
                    " On sale"
                </label>
                <button type="submit">"Save"</button>
            </form>
        </section>
        <section class="card">
            <h2>"Import and export"</h2>
            <form method="post" action=ImportProducts::PATH>
                <Csrf/>
                <label for="catalog-csv">{format!("Paste a CSV with the columns {} (active: yes or no). Every line is checked first: all are imported or none.", CSV_HEADER.join(", "))}</label>
                <TextBox id="catalog-csv" name="csv" rows=6 text=kept(ImportProducts::PATH, "csv").unwrap_or_default()
                    problem=invalid(ImportProducts::PATH, "csv").map(|_| "csv-problem")/>
                <FieldProblem action=ImportProducts::PATH field="csv"/>
                <p class="row"><button type="submit">"Import"</button> <a href=PRODUCTS_CSV download="">{format!("Export all {count} as CSV")}</a></p>
            </form>
        </section>
        {if products.is_empty() {
            view! { <Empty title="No products yet">"Add one above or import a CSV."</Empty> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="stack-on-phone">
                        <thead>
                            <tr>
                                <th scope="col">"SKU"</th>
                                <th scope="col">"Name"</th>
                                <th scope="col" class="number">"Unit price"</th>
                                <th scope="col">"On sale"</th>
                                <th scope="col">"Change"</th>
                            </tr>
                        </thead>
                        <tbody>{products.into_iter().map(product_row).collect_view()}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
    }
}

fn product_row(product: Product) -> impl IntoView + use<> {
    let sku = product.sku.as_str().to_owned();
    let edit = format!(
        "{}?{}",
        ProductsPage::PATH,
        serde_urlencoded::to_string([("sku", &sku)]).unwrap_or_default()
    );
    let (label, next) = if product.active {
        ("Take off sale", "false")
    } else {
        ("Put on sale", "true")
    };
    view! {
        <tr>
            <th scope="row" data-label="SKU">{sku.clone()}</th>
            <td data-label="Name">{product.name.as_str().to_owned()}</td>
            <td data-label="Unit price" class="number">{product.unit_price.format(product.currency)}</td>
            <td data-label="On sale">{if product.active { view! { <span>"yes"</span> }.into_any() } else { view! { <span class="badge stored">"off sale"</span> }.into_any() }}</td>
            <td data-label="Change">
                <span class="row compact">
                    <a href=edit>"Edit"<span class="visually-hidden">{format!(" {sku}")}</span></a>
                    <form method="post" action=SetProductActive::PATH>
                        <Csrf/>
                        <input type="hidden" name="sku" value=sku.clone()/>
                        <input type="hidden" name="active" value=next/>
                        <button type="submit" class="quiet">{label}<span class="visually-hidden">{format!(" {sku}")}</span></button>
                    </form>
                </span>
            </td>
        </tr>
    }
}
