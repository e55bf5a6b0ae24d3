//! Tables' files in the emulator's S3, at the locations its Glue gives them
//! (`s3://emulator-data/<db>/<table>/`), where Trino's Hive connector reads them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

use crate::catalog::{DATA_BUCKET, TableMeta};
use crate::error::{Error, Result};
use crate::storage::Storage;

fn table_dir(storage: &Storage, db: &str, table: &str) -> Result<PathBuf> {
    let bucket = storage.root().join(DATA_BUCKET);
    let dir = bucket.join(db).join(table);
    match std::fs::symlink_metadata(&dir) {
        Ok(meta) if meta.file_type().is_symlink() || meta.is_file() => {
            std::fs::remove_file(&dir)
                .map_err(|e| Error::io(format!("replacing {}", dir.display()), e))?
        }
        Ok(_) => std::fs::remove_dir_all(&dir)
            .map_err(|e| Error::io(format!("replacing {}", dir.display()), e))?,
        Err(_) => {}
    }
    std::fs::create_dir_all(bucket.join(db))
        .map_err(|e| Error::io(format!("creating {}", bucket.display()), e))?;
    Ok(dir)
}

#[cfg(unix)]
fn link(source: &Path, link: &Path) -> Result<()> {
    let source = source
        .canonicalize()
        .map_err(|e| Error::io(format!("resolving {}", source.display()), e))?;
    std::os::unix::fs::symlink(&source, link).map_err(|e| {
        Error::io(
            format!("linking {} to {}", link.display(), source.display()),
            e,
        )
    })
}

#[cfg(not(unix))]
fn link(_source: &Path, _link: &Path) -> Result<()> {
    Err(Error::trino(
        "the Trino engine needs a Unix system (it links the tables' files into S3)",
    ))
}

/// Links a table registered from files (a directory, or one file) into the data bucket.
pub(crate) fn publish_files(storage: &Storage, meta: &TableMeta) -> Result<()> {
    let Some(source) = &meta.source else {
        return Ok(());
    };
    let dir = table_dir(storage, &meta.database, &meta.name)?;
    if source.is_dir() {
        link(source, &dir)
    } else {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let name = source.file_name().unwrap_or_default();
        link(source, &dir.join(name))
    }
}

/// Writes registered batches as one Parquet file in the data bucket, with the lower-case
/// column names Glue gives the table.
pub(crate) fn publish_batches(
    storage: &Storage,
    db: &str,
    table: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    let lower: SchemaRef = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name().to_lowercase(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let dir = table_dir(storage, db, table)?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let path = dir.join("data.parquet");
    let context = format!("writing {}", path.display());
    let file = std::fs::File::create(&path).map_err(|e| Error::io(context.clone(), e))?;
    let parquet = |e: datafusion::parquet::errors::ParquetError| {
        Error::io(context.clone(), std::io::Error::other(e))
    };
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&lower), None).map_err(parquet)?;
    for batch in batches {
        let batch = RecordBatch::try_new(Arc::clone(&lower), batch.columns().to_vec())
            .map_err(|e| Error::io(context.clone(), std::io::Error::other(e)))?;
        writer.write(&batch).map_err(parquet)?;
    }
    writer.close().map_err(parquet)?;
    Ok(())
}
