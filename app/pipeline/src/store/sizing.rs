//! DynamoDB's sizing rules, so the project can price its own writes from
//! real items and the table's definition:
//!
//! - an item's size: *Developer Guide*, "DynamoDB item sizes and formats"
//!   (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>);
//! - units: a write is 1 unit a started KB, a read 1 (strongly consistent)
//!   or ½ (eventually consistent) a started 4 KB, and an update costs the
//!   larger of the item before and after ("DynamoDB read and write
//!   operations", <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html>);
//! - what a table write costs each global secondary index ("Global secondary
//!   indexes", section "Provisioned throughput considerations for writes",
//!   <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes>).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub type Item = HashMap<String, AttributeValue>;

const KB: usize = 1024;

/// The size of one value, without its attribute name.
pub fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|b| b.as_ref().len()).sum(),
        // 3 bytes a list or map, 1 an element.
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(entries) => {
            3 + entries
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// 1 byte per two significant digits, plus 1; leading and trailing zeroes
/// do not count.
fn number_size(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.max(1).div_ceil(2) + 1
}

/// An item's size: its attribute names and values.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// Write units for writing `size` bytes once: 1 a started KB.
pub fn write_units(size: usize) -> u32 {
    u32::try_from(size.max(1).div_ceil(KB)).unwrap_or(u32::MAX)
}

/// Read units for reading items of these sizes in one request (`GetItem`,
/// `BatchGetItem`): each item rounds up to 4 KB on its own; eventually
/// consistent reads cost half.
pub fn read_units(sizes: &[usize], consistent: bool) -> f64 {
    let blocks: usize = sizes.iter().map(|size| size.max(&1).div_ceil(4 * KB)).sum();
    if consistent {
        blocks as f64
    } else {
        blocks as f64 / 2.0
    }
}

/// Which attributes an index copies besides the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    KeysOnly,
    Include(Vec<String>),
    All,
}

/// A global secondary index, as far as its write cost goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexShape {
    pub name: String,
    pub partition_key: String,
    pub sort_key: Option<String>,
    pub projection: Projection,
}

/// A table's keys and global secondary indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableShape {
    pub partition_key: String,
    pub sort_key: Option<String>,
    pub indexes: Vec<IndexShape>,
}

/// What one write costs, the table and each index it touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    pub table: u32,
    /// Index name and units, only indexes that were written.
    pub indexes: Vec<(String, u32)>,
}

impl Writes {
    pub fn total(&self) -> u32 {
        self.table + self.indexes.iter().map(|(_, units)| units).sum::<u32>()
    }
}

impl TableShape {
    /// The shape DynamoDB reports for a table (`DescribeTable`).
    pub fn described(table: &aws_sdk_dynamodb::types::TableDescription) -> Self {
        use aws_sdk_dynamodb::types::{KeySchemaElement, KeyType, ProjectionType};
        let key = |schema: &[KeySchemaElement], kind: KeyType| {
            schema
                .iter()
                .find(|element| *element.key_type() == kind)
                .map(|element| element.attribute_name().to_owned())
        };
        Self {
            partition_key: key(table.key_schema(), KeyType::Hash).unwrap_or_default(),
            sort_key: key(table.key_schema(), KeyType::Range),
            indexes: table
                .global_secondary_indexes()
                .iter()
                .map(|index| IndexShape {
                    name: index.index_name().unwrap_or_default().to_owned(),
                    partition_key: key(index.key_schema(), KeyType::Hash).unwrap_or_default(),
                    sort_key: key(index.key_schema(), KeyType::Range),
                    projection: match index.projection().and_then(|p| p.projection_type()) {
                        Some(ProjectionType::KeysOnly) => Projection::KeysOnly,
                        Some(ProjectionType::Include) => Projection::Include(
                            index
                                .projection()
                                .map(|p| p.non_key_attributes().to_vec())
                                .unwrap_or_default(),
                        ),
                        _ => Projection::All,
                    },
                })
                .collect(),
        }
    }

    /// The entry `index` holds for `item`, or `None` when the item lacks
    /// one of the index's keys (a sparse index leaves it out).
    pub fn index_entry(&self, index: &IndexShape, item: &Item) -> Option<Item> {
        let mut keys = vec![&index.partition_key, &self.partition_key];
        keys.extend(index.sort_key.iter());
        keys.extend(self.sort_key.iter());
        if !item.contains_key(&index.partition_key)
            || index
                .sort_key
                .as_ref()
                .is_some_and(|sk| !item.contains_key(sk))
        {
            return None;
        }
        Some(
            item.iter()
                .filter(|(name, _)| {
                    keys.contains(name)
                        || match &index.projection {
                            Projection::KeysOnly => false,
                            Projection::Include(names) => names.contains(name),
                            Projection::All => true,
                        }
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        )
    }

    /// A `PutItem` of a new item: the table, and each index the item is in.
    pub fn put(&self, item: &Item) -> Writes {
        self.update(&Item::new(), item)
    }

    /// An update from `before` to `after` (an empty `before`: a new item).
    /// The table pays for the larger of the two; an index pays nothing when
    /// its entry is absent or unchanged, one write when it appears, goes or
    /// changes in its projected attributes, two when its key changes (a
    /// delete and a put).
    pub fn update(&self, before: &Item, after: &Item) -> Writes {
        let indexes = self
            .indexes
            .iter()
            .filter_map(|index| {
                let units = match (
                    self.index_entry(index, before),
                    self.index_entry(index, after),
                ) {
                    (None, None) => 0,
                    (None, Some(new)) => write_units(item_size(&new)),
                    (Some(old), None) => write_units(item_size(&old)),
                    (Some(old), Some(new)) if old == new => 0,
                    (Some(old), Some(new)) => {
                        let key_moved = old.get(&index.partition_key)
                            != new.get(&index.partition_key)
                            || index
                                .sort_key
                                .as_ref()
                                .is_some_and(|sk| old.get(sk) != new.get(sk));
                        if key_moved {
                            write_units(item_size(&old)) + write_units(item_size(&new))
                        } else {
                            write_units(item_size(&new))
                        }
                    }
                };
                (units > 0).then(|| (index.name.clone(), units))
            })
            .collect();
        Writes {
            table: write_units(item_size(before).max(item_size(after))),
            indexes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_owned())
    }

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(text.to_owned())
    }

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    #[test]
    fn sizes_follow_the_developer_guides_rules() {
        // Strings: name bytes + UTF-8 bytes.
        assert_eq!(item_size(&item(&[("name", s("Ana"))])), 4 + 3);
        assert_eq!(item_size(&item(&[("n", s("São"))])), 1 + 4);
        // Numbers: 1 byte per two significant digits, plus 1; zeroes trimmed.
        assert_eq!(value_size(&n("2598")), 3);
        assert_eq!(value_size(&n("12345")), 4);
        assert_eq!(value_size(&n("100")), 2);
        assert_eq!(value_size(&n("0.0012")), 2);
        assert_eq!(value_size(&n("-7")), 2);
        // Null and Boolean: 1 byte.
        assert_eq!(value_size(&AttributeValue::Bool(true)), 1);
        assert_eq!(value_size(&AttributeValue::Null(true)), 1);
        // Binary: raw bytes, not base64.
        assert_eq!(
            value_size(&AttributeValue::B(aws_smithy_types::Blob::new(vec![
                0u8;
                10
            ]))),
            10
        );
        // List and Map: 3 bytes, plus 1 an element; empty ones are 3.
        assert_eq!(item_size(&item(&[("l", AttributeValue::L(vec![]))])), 1 + 3);
        assert_eq!(
            value_size(&AttributeValue::L(vec![s("ab"), s("c")])),
            3 + (1 + 2) + (1 + 1)
        );
        assert_eq!(
            value_size(&AttributeValue::M(HashMap::from([(
                "sku".to_owned(),
                s("GC-500")
            )]))),
            3 + 1 + 3 + 6
        );
    }

    #[test]
    fn units_round_up_as_the_guide_shows() {
        // "Item sizes for writes are rounded up to the next 1 KB multiple":
        // a 500-byte item costs 1 unit, a 3.5 KB item 4.
        assert_eq!(write_units(500), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
        assert_eq!(write_units(3584), 4);
        // "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item".
        assert_eq!(read_units(&[3500], true), 1.0);
        // An 8 KB item: 2 units strongly consistent, 1 eventually consistent.
        assert_eq!(read_units(&[8 * KB], true), 2.0);
        assert_eq!(read_units(&[8 * KB], false), 1.0);
        // BatchGetItem of 1.5 KB and 6.5 KB items counts 4 KB + 8 KB = 12 KB.
        assert_eq!(read_units(&[1536, 6656], true), 3.0);
    }

    fn shape(projection: Projection) -> TableShape {
        TableShape {
            partition_key: "pk".to_owned(),
            sort_key: Some("sk".to_owned()),
            indexes: vec![
                IndexShape {
                    name: "by-day".to_owned(),
                    partition_key: "day".to_owned(),
                    sort_key: Some("at".to_owned()),
                    projection,
                },
                IndexShape {
                    name: "waiting".to_owned(),
                    partition_key: "waiting".to_owned(),
                    sort_key: Some("at".to_owned()),
                    projection: Projection::KeysOnly,
                },
            ],
        }
    }

    #[test]
    fn index_writes_follow_the_global_secondary_index_rules() {
        let big = "x".repeat(1500);
        let new = item(&[
            ("pk", s("ORDER#1")),
            ("sk", s("ORDER")),
            ("day", s("2026-12-06")),
            ("at", s("10:00")),
            ("waiting", s("yes")),
            ("status", s("stored")),
            ("body", s(&big)),
        ]);
        // A new item: the table (2 KB) and each index it is in.
        let put = shape(Projection::KeysOnly).put(&new);
        assert_eq!(put.table, 2);
        assert_eq!(
            put.indexes,
            [("by-day".to_owned(), 1), ("waiting".to_owned(), 1)]
        );
        // An index that projects everything pays the item's size.
        assert_eq!(shape(Projection::All).put(&new).indexes[0].1, 2);

        // Removing the sparse key: one delete from that index; a changed
        // attribute the other does not project: nothing there.
        let mut marked = new.clone();
        marked.remove("waiting");
        marked.insert("status".to_owned(), s("notified"));
        let mark = shape(Projection::KeysOnly).update(&new, &marked);
        assert_eq!(mark.table, 2);
        assert_eq!(mark.indexes, [("waiting".to_owned(), 1)]);
        // The same change is a write to an index that projects `status`.
        let included = shape(Projection::Include(vec!["status".to_owned()])).update(&new, &marked);
        assert_eq!(included.indexes[0], ("by-day".to_owned(), 1));
        // A changed index key: a delete and a put.
        let mut moved = new.clone();
        moved.insert("day".to_owned(), s("2026-12-07"));
        let moved = shape(Projection::KeysOnly).update(&new, &moved);
        assert_eq!(moved.indexes, [("by-day".to_owned(), 2)]);
        // An item in no index before or after costs the indexes nothing.
        let plain = item(&[("pk", s("USER")), ("sk", s("USER#a"))]);
        assert_eq!(shape(Projection::All).put(&plain).total(), 1);
    }
}
