//! Writes the sample data the quickstart uses, deterministically (same bytes on every run):
//!
//! - `examples/data/sales/orders/region=<r>/orders.parquet`: the "Athena" table `sales.orders`,
//!   partitioned by region, served by the emulator (`--emulator examples/data`);
//! - `examples/local/customers.parquet`: a local file to join with it.
//!
//! Needs nothing but this repository: `cargo run --example make_sample_data`.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;

const REGIONS: [&str; 3] = ["amer", "apac", "emea"];
const SEGMENTS: [&str; 4] = ["consumer", "enterprise", "public sector", "small business"];
const CUSTOMERS: i32 = 200;
const ORDERS_PER_REGION: i64 = 2_000;
/// 2026-01-01 as days since the Unix epoch.
const FIRST_DAY: i32 = 20_454;

/// A tiny deterministic generator (64-bit LCG), so the files are the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn write(path: &Path, batch: &RecordBatch) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("datafusion-athena make_sample_data".to_string())
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path)?, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    println!("wrote {} ({} rows)", path.display(), batch.num_rows());
    Ok(())
}

fn orders(region_index: usize, rng: &mut Lcg) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let n = ORDERS_PER_REGION;
    let base = region_index as i64 * n;
    let ids: Vec<i64> = (1..=n).map(|i| base + i).collect();
    let customers: Vec<i32> = (0..n)
        .map(|_| 1 + rng.next(CUSTOMERS as u64) as i32)
        .collect();
    let days: Vec<i32> = (0..n).map(|_| FIRST_DAY + rng.next(365) as i32).collect();
    // Cents, between 5.00 and 2,504.99.
    let amounts: Vec<i128> = (0..n).map(|_| 500 + rng.next(250_000) as i128).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int32, false),
        Field::new("order_date", DataType::Date32, false),
        Field::new("amount", DataType::Decimal128(10, 2), false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(Int32Array::from(customers)),
        Arc::new(Date32Array::from(days)),
        Arc::new(Decimal128Array::from(amounts).with_precision_and_scale(10, 2)?),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn customers(rng: &mut Lcg) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let ids: Vec<i32> = (1..=CUSTOMERS).collect();
    let names: Vec<String> = ids.iter().map(|i| format!("customer {i:03}")).collect();
    let segments: Vec<&str> = ids
        .iter()
        .map(|_| SEGMENTS[rng.next(SEGMENTS.len() as u64) as usize])
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int32, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("segment", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(ids)),
        Arc::new(StringArray::from(names)),
        Arc::new(StringArray::from(segments)),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut rng = Lcg(42);
    for (i, region) in REGIONS.iter().enumerate() {
        let path = root.join(format!("data/sales/orders/region={region}/orders.parquet"));
        write(&path, &orders(i, &mut rng)?)?;
    }
    write(&root.join("local/customers.parquet"), &customers(&mut rng)?)?;
    Ok(())
}
