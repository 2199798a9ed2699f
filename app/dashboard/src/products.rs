//! The catalog as admins keep it: add or change a product, take it off sale
//! and back, import and export the whole list as CSV. Every change bumps
//! the catalog's version (ingest rereads it) and is recorded in the
//! activity log. What ingest does with it: `domain::catalog`.

use chrono::Utc;
use domain::catalog::Product;
use domain::values::ProductName;
use domain::{Currency, MinorUnits, Sku};
use pipeline::aws::AwsError;
use pipeline::store::StoreError;
use pipeline::store::products::ProductStore;

use crate::Dashboard;
use crate::auth::CurrentUser;
use crate::auth::audit::Record;
use crate::outcome::{ActionError, Audited};

/// The columns of the catalog's CSV, import and export alike.
pub const CSV_HEADER: [&str; 5] = ["sku", "name", "currency", "unit price", "active"];
/// The most products one import takes (a form post of about 100 KB each 1,000).
pub const MOST_IMPORTED: usize = 5_000;

#[derive(Clone, Debug)]
pub struct Products {
    store: ProductStore,
    /// Whether ingest checks orders against the catalog (`CHECK_PRICES`).
    pub checked: bool,
}

fn unreadable(error: StoreError) -> ActionError {
    match error {
        StoreError::Aws(error) => error.into(),
        StoreError::Corrupt { key, reason } => {
            AwsError::corrupt(format!("reading the catalog's {key}"), reason).into()
        }
    }
}

/// A product from what a form or a CSV line says, or what is wrong with it
/// (`field` names the form field).
pub fn product(
    sku: &str,
    name: &str,
    currency: &str,
    unit_price: &str,
    active: bool,
) -> Result<Product, (&'static str, String)> {
    let sku = Sku::parse(sku.trim().to_owned())
        .map_err(|problem| ("sku", format!("The SKU {problem}.")))?;
    let name = ProductName::parse(name.trim().to_owned())
        .map_err(|problem| ("name", format!("The name {problem}.")))?;
    let currency = Currency::parse(currency.trim())
        .map_err(|problem| ("currency", format!("The currency {problem}.")))?;
    let unit_price = MinorUnits::parse_major(unit_price, currency)
        .and_then(|price| MinorUnits::unit_price(price.get()))
        .map_err(|problem| ("unit_price", format!("The unit price {problem}.")))?;
    Ok(Product {
        sku,
        name,
        currency,
        unit_price,
        active,
    })
}

/// `yes`/`no` as the CSV writes it; `true`/`false` and `1`/`0` are read too.
fn active(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Some(true),
        "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// The products of a CSV with [`CSV_HEADER`], or every line at fault.
pub fn parse_csv(text: &str) -> Result<Vec<Product>, Vec<String>> {
    // What a spreadsheet saves (and the export writes) may start with a BOM.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header_ok = reader.headers().is_ok_and(|header| {
        header.len() == CSV_HEADER.len()
            && header
                .iter()
                .zip(CSV_HEADER)
                .all(|(given, wanted)| given.eq_ignore_ascii_case(wanted))
    });
    if !header_ok {
        return Err(vec![format!(
            "The first line must name the columns: {}.",
            CSV_HEADER.join(",")
        )]);
    }
    let mut products = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("Line {line}: {error}."));
                continue;
            }
        };
        let Some(is_active) = active(&record[4]) else {
            problems.push(format!(
                "Line {line}: active must be yes or no, not {:?}.",
                &record[4]
            ));
            continue;
        };
        match product(&record[0], &record[1], &record[2], &record[3], is_active) {
            Ok(product) if !seen.insert(product.sku.as_str().to_owned()) => problems.push(format!(
                "Line {line}: SKU {} is on an earlier line too.",
                product.sku.as_str()
            )),
            Ok(product) => products.push(product),
            Err((_, problem)) => problems.push(format!("Line {line}: {problem}")),
        }
    }
    if products.len() > MOST_IMPORTED {
        problems.push(format!(
            "The file has {} products; import at most {MOST_IMPORTED} at a time.",
            products.len()
        ));
    }
    if problems.is_empty() {
        Ok(products)
    } else {
        Err(problems)
    }
}

/// The catalog as CSV, [`CSV_HEADER`] first; cells a spreadsheet would run
/// are written as text.
pub fn to_csv(products: &[Product]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER).expect("writing to memory");
    for product in products {
        writer
            .write_record([
                crate::spreadsheet::cell(product.sku.as_str()),
                crate::spreadsheet::cell(product.name.as_str()),
                product.currency.code().to_owned(),
                product.unit_price.plain(product.currency),
                if product.active { "yes" } else { "no" }.to_owned(),
            ])
            .expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("UTF-8")
}

impl Products {
    pub fn new(store: ProductStore, checked: bool) -> Self {
        Self { store, checked }
    }

    pub async fn list(&self) -> Result<Vec<Product>, ActionError> {
        self.store.list().await.map_err(unreadable)
    }

    /// Adds or replaces these products; ingest sees them at its next batch.
    async fn put(&self, products: &[Product]) -> Result<(), ActionError> {
        self.store
            .put(products, Utc::now())
            .await
            .map_err(unreadable)
    }

    /// Orders ingest refused for their prices today (UTC).
    pub async fn refused_today(&self) -> Result<u64, ActionError> {
        let day = Utc::now().format("%Y-%m-%d").to_string();
        self.store.refused_on(&day).await.map_err(unreadable)
    }
}

impl Dashboard {
    /// Adds a product, or changes the one with its SKU.
    pub async fn save_product(
        &self,
        actor: &CurrentUser,
        fields: [&str; 4],
        active: bool,
    ) -> Result<Audited<Product>, ActionError> {
        let [sku, name, currency, unit_price] = fields;
        let attempt = async {
            let product = product(sku, name, currency, unit_price, active)
                .map_err(|(field, problem)| ActionError::field(field, problem))?;
            self.products.put(std::slice::from_ref(&product)).await?;
            Ok(product)
        }
        .await;
        let mut record = Record::new(&actor.email, "save product", sku.trim());
        if let Ok(product) = &attempt {
            record = record
                .detail("price", product.unit_price.format(product.currency))
                .detail("active", product.active);
        }
        self.auth.audit.after(record, attempt).await
    }

    /// Takes a product off sale, or back on.
    pub async fn set_product_active(
        &self,
        actor: &CurrentUser,
        sku: &str,
        active: bool,
    ) -> Result<Audited<Product>, ActionError> {
        let attempt = async {
            let mut product = self
                .products
                .store
                .get(sku.trim())
                .await
                .map_err(unreadable)?
                .ok_or_else(|| ActionError::NotFound(format!("There is no product {sku}.")))?;
            product.active = active;
            self.products.put(std::slice::from_ref(&product)).await?;
            Ok(product)
        }
        .await;
        let action = if active {
            "activate product"
        } else {
            "deactivate product"
        };
        let record = Record::new(&actor.email, action, sku.trim());
        self.auth.audit.after(record, attempt).await
    }

    /// Adds or changes every product of a CSV, all or none.
    pub async fn import_products(
        &self,
        actor: &CurrentUser,
        csv: &str,
    ) -> Result<Audited<usize>, ActionError> {
        let attempt = async {
            let products = parse_csv(csv).map_err(|problems| {
                let shown: Vec<String> = problems.iter().take(5).cloned().collect();
                let more = problems.len().saturating_sub(shown.len());
                let mut message = format!("Nothing was imported. {}", shown.join(" "));
                if more > 0 {
                    message.push_str(&format!(" And {more} more lines like these."));
                }
                ActionError::field("csv", message)
            })?;
            self.products.put(&products).await?;
            Ok(products.len())
        }
        .await;
        let mut record = Record::new(&actor.email, "import products", "catalog");
        if let Ok(count) = &attempt {
            record = record.detail("products", count);
        }
        self.auth.audit.after(record, attempt).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_comes_back_as_it_was_written() {
        let products = domain::sample::products();
        let csv = to_csv(&products);
        assert!(csv.starts_with("sku,name,currency,unit price,active\n"));
        assert!(
            csv.contains("GC-500,Glass cleaner 500 ml,USD,12.99,yes\n"),
            "{csv}"
        );
        assert_eq!(parse_csv(&csv).unwrap(), products);
        assert_eq!(parse_csv(&format!("\u{FEFF}{csv}")).unwrap(), products);
    }

    #[test]
    fn every_bad_line_is_named_and_nothing_is_taken() {
        let csv = "sku,name,currency,unit price,active\n\
                   GC-500,Glass cleaner,USD,12.99,yes\n\
                   ,No SKU,USD,1.00,yes\n\
                   BL-1L,Bleach,XXX,2.99,yes\n\
                   SP-3,Sponges,USD,abc,yes\n\
                   DL-750,Dish liquid,USD,3.99,maybe\n\
                   GC-500,Again,USD,1.00,no\n\
                   TOO,many,USD,1.00,yes,extra\n";
        let problems = parse_csv(csv).unwrap_err();
        let lines: Vec<&str> = problems
            .iter()
            .map(|problem| problem.split(':').next().unwrap())
            .collect();
        assert_eq!(
            lines,
            ["Line 3", "Line 4", "Line 5", "Line 6", "Line 7", "Line 8"],
            "{problems:?}"
        );
        assert!(parse_csv("sku;name\nGC-500;x\n").unwrap_err()[0].contains("first line"));
    }
}
