//! TPC-H tables at a small scale factor, written as Parquet into an emulator data directory
//! (`DIR/tpch/<table>/data.parquet`).

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::error::ArrowError;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RegionArrow,
    SupplierArrow,
};

/// The database the tables live in.
pub const DATABASE: &str = "tpch";

/// The eight TPC-H tables.
pub const TABLES: [&str; 8] = [
    "nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem",
];

fn write(dir: &Path, table: &str, batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>) {
    let table_dir = dir.join(DATABASE).join(table);
    std::fs::create_dir_all(&table_dir).expect("create table dir");
    let file = File::create(table_dir.join("data.parquet")).expect("create parquet file");
    let mut writer: Option<ArrowWriter<File>> = None;
    let mut file = Some(file);
    for batch in batches {
        let batch = batch.expect("generate batch");
        let w = writer.get_or_insert_with(|| {
            ArrowWriter::try_new(file.take().expect("file"), batch.schema(), None)
                .expect("parquet writer")
        });
        w.write(&batch).expect("write batch");
    }
    writer
        .expect("at least one batch")
        .close()
        .expect("close parquet");
}

/// Generates the eight tables at scale factor `sf` into `dir`.
pub fn generate(dir: &Path, sf: f64) {
    write(
        dir,
        "nation",
        NationArrow::new(NationGenerator::new(sf, 1, 1)),
    );
    write(
        dir,
        "region",
        RegionArrow::new(RegionGenerator::new(sf, 1, 1)),
    );
    write(dir, "part", PartArrow::new(PartGenerator::new(sf, 1, 1)));
    write(
        dir,
        "supplier",
        SupplierArrow::new(SupplierGenerator::new(sf, 1, 1)),
    );
    write(
        dir,
        "partsupp",
        PartSuppArrow::new(PartSuppGenerator::new(sf, 1, 1)),
    );
    write(
        dir,
        "customer",
        CustomerArrow::new(CustomerGenerator::new(sf, 1, 1)),
    );
    write(
        dir,
        "orders",
        OrderArrow::new(OrderGenerator::new(sf, 1, 1)),
    );
    write(
        dir,
        "lineitem",
        LineItemArrow::new(LineItemGenerator::new(sf, 1, 1)),
    );
}

/// The Parquet file of `table` under `dir`.
pub fn parquet_file(dir: &Path, table: &str) -> PathBuf {
    dir.join(DATABASE).join(table).join("data.parquet")
}

/// A plain DataFusion session reading the same files: the reference answers.
pub async fn local_session(dir: &Path) -> SessionContext {
    let ctx = SessionContext::new();
    for table in TABLES {
        ctx.register_parquet(
            table,
            parquet_file(dir, table).to_str().expect("utf-8 path"),
            ParquetReadOptions::default(),
        )
        .await
        .expect("register parquet");
    }
    ctx
}
