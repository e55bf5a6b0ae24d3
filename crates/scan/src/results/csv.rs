//! The S3 path: `<OutputLocation>/<id>.csv` read with concurrent ranged GETs and decoded with a
//! hand-written parser that tells NULL (empty unquoted field) from the empty string (`""`).

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use super::text::BatchDecoder;
use super::{AbortOnDrop, ReadOptions, get_range, parts_of};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just read a `"` inside a quoted field: either the closing quote or half of `""`.
    QuoteInQuoted,
}

/// Push parser for Athena's result CSV.
#[derive(Debug)]
pub(crate) struct CsvDecoder {
    batch: BatchDecoder,
    batch_size: usize,
    location: String,
    header_pending: bool,
    header_fields: usize,
    field: Vec<u8>,
    quoted: bool,
    state: State,
    col: usize,
    record: u64,
    /// Where the decoded bytes start in the object (0 for the piece holding the header).
    offset: u64,
}

impl CsvDecoder {
    #[cfg(test)]
    pub(crate) fn new(schema: SchemaRef, batch_size: usize, location: String) -> Result<Self> {
        Self::at_offset(schema, batch_size, location, 0)
    }

    /// A decoder for the bytes from `offset` on, which must start at a record boundary; only
    /// the decoder at offset 0 expects the header row.
    fn at_offset(
        schema: SchemaRef,
        batch_size: usize,
        location: String,
        offset: u64,
    ) -> Result<Self> {
        Ok(Self {
            batch: BatchDecoder::new(schema, batch_size)?,
            batch_size: batch_size.max(1),
            location,
            header_pending: offset == 0,
            header_fields: 0,
            field: Vec::with_capacity(256),
            quoted: false,
            state: State::FieldStart,
            col: 0,
            record: 0,
            offset,
        })
    }

    fn malformed(&self, message: String) -> Error {
        let message = if self.offset == 0 {
            message
        } else {
            format!(
                "{message} (records counted from byte {} of the object)",
                self.offset
            )
        };
        Error::MalformedResult {
            location: self.location.clone(),
            message,
        }
    }

    /// Decodes `chunk`, pushing every batch that fills up to `out`.
    pub(crate) fn decode(&mut self, chunk: &[u8], out: &mut VecDeque<RecordBatch>) -> Result<()> {
        let mut i = 0;
        let n = chunk.len();
        while i < n {
            match self.state {
                State::FieldStart => match chunk[i] {
                    b'"' => {
                        self.state = State::Quoted;
                        self.quoted = true;
                        i += 1;
                    }
                    b',' => {
                        self.end_field()?;
                        i += 1;
                    }
                    b'\n' => {
                        self.end_field()?;
                        self.end_record(out)?;
                        i += 1;
                    }
                    b'\r' => i += 1,
                    _ => self.state = State::Unquoted,
                },
                State::Unquoted => {
                    let rest = &chunk[i..];
                    match rest.iter().position(|b| matches!(b, b',' | b'\n' | b'\r')) {
                        Some(p) => {
                            self.field.extend_from_slice(&rest[..p]);
                            i += p + 1;
                            match rest[p] {
                                // `\r` outside quotes is dropped (`\r\n` line ends).
                                b'\r' => {}
                                b',' => self.end_field()?,
                                _ => {
                                    self.end_field()?;
                                    self.end_record(out)?;
                                }
                            }
                        }
                        None => {
                            self.field.extend_from_slice(rest);
                            i = n;
                        }
                    }
                }
                State::Quoted => {
                    let rest = &chunk[i..];
                    match rest.iter().position(|b| *b == b'"') {
                        Some(p) => {
                            self.field.extend_from_slice(&rest[..p]);
                            i += p + 1;
                            self.state = State::QuoteInQuoted;
                        }
                        None => {
                            self.field.extend_from_slice(rest);
                            i = n;
                        }
                    }
                }
                State::QuoteInQuoted => match chunk[i] {
                    b'"' => {
                        self.field.push(b'"');
                        self.state = State::Quoted;
                        i += 1;
                    }
                    b',' => {
                        self.end_field()?;
                        self.state = State::FieldStart;
                        i += 1;
                    }
                    b'\n' => {
                        self.end_field()?;
                        self.end_record(out)?;
                        self.state = State::FieldStart;
                        i += 1;
                    }
                    b'\r' => i += 1,
                    other => {
                        return Err(self.malformed(format!(
                            "record {}: unexpected character '{}' after a closing quote",
                            self.record + 1,
                            char::from(other).escape_default()
                        )));
                    }
                },
            }
        }
        Ok(())
    }

    /// The end of the data: the last record may lack its `\n`.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<RecordBatch>) -> Result<()> {
        match self.state {
            State::Quoted => {
                return Err(self.malformed(format!(
                    "record {}: the data ends inside a quoted field",
                    self.record + 1
                )));
            }
            State::Unquoted | State::QuoteInQuoted => {
                self.end_field()?;
                self.end_record(out)?;
            }
            State::FieldStart => {
                if self.col > 0 || !self.field.is_empty() {
                    self.end_field()?;
                    self.end_record(out)?;
                }
            }
        }
        self.state = State::FieldStart;
        if self.header_pending {
            return Err(self.malformed("the result has no header row".into()));
        }
        if let Some(b) = self.batch.flush()? {
            out.push_back(b);
        }
        Ok(())
    }

    fn end_field(&mut self) -> Result<()> {
        let value = if self.quoted || !self.field.is_empty() {
            Some(
                std::str::from_utf8(&self.field).map_err(|e| Error::MalformedResult {
                    location: self.location.clone(),
                    message: format!(
                        "record {}, field {}: invalid UTF-8: {e}",
                        self.record + 1,
                        self.col + 1
                    ),
                })?,
            )
        } else {
            None
        };
        if !self.header_pending {
            self.batch.push(self.col, value)?;
        }
        self.col += 1;
        self.field.clear();
        self.quoted = false;
        self.state = State::FieldStart;
        Ok(())
    }

    fn end_record(&mut self, out: &mut VecDeque<RecordBatch>) -> Result<()> {
        let width = self.batch.width();
        if self.header_pending {
            self.header_pending = false;
            self.header_fields = self.col;
            if self.col != width {
                return Err(self.malformed(format!(
                    "the result has {} columns but {width} were expected",
                    self.col
                )));
            }
        } else {
            if self.col != width {
                return Err(self.malformed(format!(
                    "record {} has {} fields but {width} were expected",
                    self.record + 1,
                    self.col
                )));
            }
            self.batch.end_row();
            if self.batch.len() >= self.batch_size
                && let Some(b) = self.batch.flush()?
            {
                out.push_back(b);
            }
        }
        self.record += 1;
        self.col = 0;
        Ok(())
    }
}

/// Streams the CSV at `path` as record batches of `schema`. Fails before the first batch when
/// the object is missing or unreadable (so the caller can fall back to GetQueryResults).
pub(crate) async fn read_csv(
    store: Arc<dyn ObjectStore>,
    path: Path,
    location: String,
    schema: SchemaRef,
    options: ReadOptions,
    bytes_fetched: Option<datafusion::physical_plan::metrics::Count>,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let size = store
        .head(&path)
        .await
        .map_err(|source| Error::S3 {
            location: location.clone(),
            source,
        })?
        .size;
    let ranges = split_ranges(size, options.part_size);
    let chunks = {
        let store = Arc::clone(&store);
        let path = path.clone();
        let location = location.clone();
        futures::stream::iter(ranges)
            .map(move |range| {
                let store = Arc::clone(&store);
                let path = path.clone();
                let location = location.clone();
                AbortOnDrop(tokio::spawn(async move {
                    get_range(&*store, &path, range, &location).await
                }))
            })
            .buffered(options.concurrency.max(1))
            .map(|joined| match joined {
                Ok(r) => r,
                Err(e) => Err(Error::MalformedResult {
                    location: String::new(),
                    message: format!("download task failed: {e}"),
                }),
            })
    };
    // Fail now, not at the first batch, when the schema has a type results cannot fill.
    BatchDecoder::new(Arc::clone(&schema), 1)?;
    let decoders = options.decoders.max(1);
    let pieces = record_pieces(chunks.boxed(), bytes_fetched);
    let batches = pieces
        .map(move |piece| {
            let schema = Arc::clone(&schema);
            let location = location.clone();
            async move {
                let (offset, bytes) = piece?;
                let task = tokio::task::spawn_blocking(move || {
                    decode_piece(schema, options.batch_size, location, offset, &bytes)
                });
                match AbortOnDrop(task).await {
                    Ok(r) => r,
                    Err(e) => Err(Error::MalformedResult {
                        location: String::new(),
                        message: format!("CSV decoding task failed: {e}"),
                    }),
                }
            }
        })
        .buffered(decoders)
        .flat_map(|r| match r {
            Ok(batches) => futures::stream::iter(batches.into_iter().map(Ok)).left_stream(),
            Err(e) => futures::stream::once(async move { Err(e) }).right_stream(),
        });
    Ok(batches.boxed())
}

/// Decodes one piece that starts and ends at record boundaries (the last piece may lack its
/// final `\n`).
fn decode_piece(
    schema: SchemaRef,
    batch_size: usize,
    location: String,
    offset: u64,
    bytes: &[u8],
) -> Result<Vec<RecordBatch>> {
    let mut decoder = CsvDecoder::at_offset(schema, batch_size, location, offset)?;
    let mut out = VecDeque::new();
    decoder.decode(bytes, &mut out)?;
    decoder.finish(&mut out)?;
    Ok(out.into())
}

/// Cuts the downloaded parts into pieces that end at a record boundary (a `\n` outside
/// quotes), each with its byte offset in the object, so the pieces can be decoded in
/// parallel. A record cut by a part boundary is carried into the next piece. Always yields at
/// least one piece (an empty object gives one empty piece, which fails for its missing header).
fn record_pieces(
    chunks: BoxStream<'static, Result<Bytes>>,
    bytes_fetched: Option<datafusion::physical_plan::metrics::Count>,
) -> BoxStream<'static, Result<(u64, Bytes)>> {
    struct Split {
        chunks: BoxStream<'static, Result<Bytes>>,
        carry: Vec<u8>,
        offset: u64,
        emitted: bool,
        done: bool,
        metric: Option<datafusion::physical_plan::metrics::Count>,
    }
    let state = Split {
        chunks,
        carry: Vec::new(),
        offset: 0,
        emitted: false,
        done: false,
        metric: bytes_fetched,
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if st.done {
                return None;
            }
            match st.chunks.next().await {
                Some(Ok(chunk)) => {
                    if let Some(m) = &st.metric {
                        m.add(chunk.len());
                    }
                    let Some(end) = last_record_end(&st.carry, &chunk) else {
                        st.carry.extend_from_slice(&chunk);
                        continue;
                    };
                    let piece = if st.carry.is_empty() {
                        chunk.slice(..=end)
                    } else {
                        let mut joined = std::mem::take(&mut st.carry);
                        joined.extend_from_slice(&chunk[..=end]);
                        Bytes::from(joined)
                    };
                    st.carry.extend_from_slice(&chunk[end + 1..]);
                    let offset = st.offset;
                    st.offset += piece.len() as u64;
                    st.emitted = true;
                    return Some((Ok((offset, piece)), st));
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    if st.carry.is_empty() && st.emitted {
                        return None;
                    }
                    let piece = Bytes::from(std::mem::take(&mut st.carry));
                    return Some((Ok((st.offset, piece)), st));
                }
            }
        }
    })
    .boxed()
}

/// The index in `chunk` of the last `\n` that is outside quotes, given that `carry` (the
/// bytes before `chunk`) starts at a record boundary. A `"` toggles quoting (`""` toggles it
/// twice), so a position is outside quotes when the quotes before it are even in number.
fn last_record_end(carry: &[u8], chunk: &[u8]) -> Option<usize> {
    let count = |b: &[u8]| b.iter().filter(|&&c| c == b'"').count();
    let mut quotes = count(carry) + count(chunk);
    for (i, &c) in chunk.iter().enumerate().rev() {
        match c {
            b'"' => quotes -= 1,
            b'\n' if quotes % 2 == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// The first part is small (at most [`FIRST_PART`]) so the first batch arrives quickly; the
/// rest are `part` bytes.
fn split_ranges(size: u64, part: u64) -> Vec<Range<u64>> {
    let part = part.max(1);
    let first = part.min(FIRST_PART).min(size);
    let mut out = Vec::with_capacity((size / part) as usize + 2);
    if first > 0 {
        out.push(0..first);
    }
    out.extend(parts_of(first..size, part));
    out
}

/// The size of the first ranged GET.
const FIRST_PART: u64 = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema};
    use object_store::PutPayload;
    use object_store::memory::InMemory;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]))
    }

    const CSV: &[u8] = b"\"id\",\"name\",\"x\"\n\"1\",\"a\",\"1.5\"\n\"2\",\"\",\n,,\"1.0E20\"\n\"4\",\"line\nbreak, \"\"quoted\"\"\",\"-0.0\"\n";

    fn decode_all(data: &[u8], chunk: usize, batch_size: usize) -> Result<Vec<RecordBatch>> {
        let mut d = CsvDecoder::new(schema(), batch_size, "mem".into())?;
        let mut out = VecDeque::new();
        for c in data.chunks(chunk.max(1)) {
            d.decode(c, &mut out)?;
        }
        d.finish(&mut out)?;
        Ok(out.into_iter().collect())
    }

    fn check(batches: &[RecordBatch]) {
        let b = datafusion::arrow::compute::concat_batches(&schema(), batches).unwrap();
        assert_eq!(b.num_rows(), 4);
        let id = b.column(0).as_primitive::<Int32Type>();
        assert_eq!(id.value(0), 1);
        assert!(id.is_null(2));
        let name = b.column(1).as_string::<i32>();
        assert_eq!(name.value(0), "a");
        assert!(name.is_valid(1), "\"\" is the empty string");
        assert_eq!(name.value(1), "");
        assert!(name.is_null(2), "an empty unquoted field is NULL");
        assert_eq!(name.value(3), "line\nbreak, \"quoted\"");
        let x = b.column(2).as_primitive::<Float64Type>();
        assert!(x.is_null(1));
        assert_eq!(x.value(2), 1e20);
    }

    #[test]
    fn null_vs_empty_quotes_and_newlines_at_every_chunk_boundary() {
        for chunk in 1..=CSV.len() {
            for batch_size in [1, 3, 100] {
                let batches = decode_all(CSV, chunk, batch_size).unwrap();
                check(&batches);
                assert!(batches.iter().all(|b| b.num_rows() <= batch_size));
            }
        }
    }

    #[test]
    fn crlf_and_unquoted_values_and_missing_final_newline() {
        let data = b"id,name,x\r\n1,a,1.5\r\n2,\"\",\r\n,,1.0E20\r\n\"4\",\"line\nbreak, \"\"quoted\"\"\",-0.0";
        for chunk in 1..=data.len() {
            check(&decode_all(data, chunk, 2).unwrap());
        }
    }

    #[test]
    fn header_only_gives_no_rows_and_single_null_column_rows_are_blank_lines() {
        assert!(
            decode_all(b"\"id\",\"name\",\"x\"\n", 7, 10)
                .unwrap()
                .is_empty()
        );
        let one = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, true)]));
        let mut d = CsvDecoder::new(one, 10, "mem".into()).unwrap();
        let mut out = VecDeque::new();
        d.decode(b"\"v\"\n\n\"\"\n\"x\"\n", &mut out).unwrap();
        d.finish(&mut out).unwrap();
        let s = out[0].column(0).as_string::<i32>();
        assert_eq!(s.len(), 3);
        assert!(s.is_null(0));
        assert_eq!((s.is_valid(1), s.value(1)), (true, ""));
        assert_eq!(s.value(2), "x");
    }

    #[test]
    fn malformed_input_is_a_clear_error() {
        let err = decode_all(b"\"id\",\"name\"\n", 100, 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("has 2 columns but 3 were expected"), "{err}");
        let err = decode_all(b"\"id\",\"name\",\"x\"\n\"1\",\"2\"\n", 100, 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("record 2 has 2 fields"), "{err}");
        let err = decode_all(b"\"id\",\"name\",\"x\"\n\"1\",\"2\",\"3", 100, 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ends inside a quoted field"), "{err}");
        let err = decode_all(b"\"id\",\"name\",\"x\"\n\"1\"x,\"2\",\"3\"\n", 100, 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("after a closing quote"), "{err}");
        let err = decode_all(b"\"id\",\"name\",\"x\"\n\"one\",\"2\",\"3\"\n", 100, 10)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column 'id'") && err.contains("'one'"),
            "{err}"
        );
        let err = decode_all(b"", 100, 10).unwrap_err().to_string();
        assert!(err.contains("no header row"), "{err}");
    }

    #[test]
    fn pieces_end_at_newlines_outside_quotes() {
        assert_eq!(last_record_end(b"", b"\"a\"\n\"b"), Some(3));
        // The newline inside the quoted field is not a record end.
        assert_eq!(last_record_end(b"", b"\"a\n"), None);
        assert_eq!(last_record_end(b"\"x", b"y\n\"\n"), Some(3));
        // `""` inside a quoted field keeps it open.
        assert_eq!(last_record_end(b"", b"\"a\"\"\n\""), None);
        assert_eq!(last_record_end(b"", b",,\n"), Some(2));
    }

    /// The parallel pieces give exactly the rows of one sequential decode, for every part
    /// size (so every record, quote and `\r\n` is cut somewhere).
    #[tokio::test]
    async fn pieces_decoded_in_parallel_equal_one_sequential_decode() {
        let mut data = b"\"id\",\"name\",\"x\"\r\n".to_vec();
        for i in 0..300 {
            let name = match i % 4 {
                0 => String::new(),
                1 => format!("multi\nline \"\"{i}\"\", with comma"),
                2 => format!("plain {i}"),
                _ => "\"\"".to_string(),
            };
            let x = if i % 5 == 0 {
                String::new()
            } else {
                format!("\"{i}.25\"")
            };
            data.extend_from_slice(format!("\"{i}\",\"{name}\",{x}\r\n").as_bytes());
        }
        let expected = decode_all(&data, data.len(), 64).unwrap();
        let expected = datafusion::arrow::compute::concat_batches(&schema(), &expected).unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("p.csv");
        store
            .put(&path, PutPayload::from(data.clone()))
            .await
            .unwrap();
        for part_size in [1, 2, 3, 7, 64, 1000, data.len() as u64] {
            let opts = ReadOptions {
                part_size,
                concurrency: 3,
                batch_size: 64,
                decoders: 2,
                ..Default::default()
            };
            let s = read_csv(
                Arc::clone(&store),
                path.clone(),
                "m".into(),
                schema(),
                opts,
                None,
            )
            .await
            .unwrap();
            let got: Vec<RecordBatch> = s.map(|b| b.unwrap()).collect().await;
            let got = datafusion::arrow::compute::concat_batches(&schema(), &got).unwrap();
            assert_eq!(got, expected, "part size {part_size}");
        }
    }

    #[tokio::test]
    async fn a_malformed_record_in_a_later_piece_names_its_offset() {
        let mut data = b"\"id\",\"name\",\"x\"\n".to_vec();
        for i in 0..100 {
            data.extend_from_slice(format!("\"{i}\",\"n\",\"1.5\"\n").as_bytes());
        }
        data.extend_from_slice(b"\"1\",\"2\"\n");
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("bad.csv");
        store.put(&path, PutPayload::from(data)).await.unwrap();
        let opts = ReadOptions {
            part_size: 256,
            concurrency: 2,
            batch_size: 10,
            decoders: 2,
            ..Default::default()
        };
        let s = read_csv(store, path, "s3://b/bad.csv".into(), schema(), opts, None)
            .await
            .unwrap();
        let results: Vec<Result<RecordBatch>> = s.collect().await;
        let err = results
            .into_iter()
            .find_map(|r| r.err())
            .expect("an error")
            .to_string();
        assert!(err.contains("has 2 fields but 3 were expected"), "{err}");
        assert!(err.contains("counted from byte"), "{err}");
        assert!(err.contains("s3://b/bad.csv"), "{err}");
    }

    #[test]
    fn ranges_cover_the_object_exactly() {
        assert_eq!(split_ranges(0, 4), Vec::<Range<u64>>::new());
        assert_eq!(split_ranges(10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(split_ranges(8, 4), vec![0..4, 4..8]);
        let mib = 1024 * 1024;
        assert_eq!(
            split_ranges(20 * mib, 8 * mib),
            vec![
                0..FIRST_PART,
                FIRST_PART..FIRST_PART + 8 * mib,
                FIRST_PART + 8 * mib..FIRST_PART + 16 * mib,
                FIRST_PART + 16 * mib..20 * mib
            ]
        );
        assert_eq!(split_ranges(1000, 8 * mib), vec![0..1000]);
    }

    #[tokio::test]
    async fn reads_ahead_only_a_few_parts() {
        // 20k rows (~400 KB) in 4 KiB parts, 2 in flight: the first batch must arrive after a
        // handful of parts, not after the whole object.
        let mut data = b"\"id\",\"name\",\"x\"\n".to_vec();
        for i in 0..20_000 {
            data.extend_from_slice(format!("\"{i}\",\"name {i}\",\"{i}.5\"\n").as_bytes());
        }
        let total = data.len();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("big.csv");
        store.put(&path, PutPayload::from(data)).await.unwrap();
        let fetched = datafusion::physical_plan::metrics::Count::new();
        let opts = ReadOptions {
            part_size: 4096,
            concurrency: 2,
            batch_size: 100,
            decoders: 2,
            ..Default::default()
        };
        let mut s = read_csv(
            store,
            path,
            "mem".into(),
            schema(),
            opts,
            Some(fetched.clone()),
        )
        .await
        .unwrap();
        let first = s.next().await.unwrap().unwrap();
        assert_eq!(first.num_rows(), 100);
        assert!(
            fetched.value() <= 4 * 4096,
            "{} of {total} bytes fetched for the first batch",
            fetched.value()
        );
        let mut rows = first.num_rows();
        while let Some(b) = s.next().await {
            rows += b.unwrap().num_rows();
        }
        assert_eq!(rows, 20_000);
        assert_eq!(fetched.value(), total);
    }

    #[tokio::test]
    async fn streams_from_an_object_store_in_small_parts() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("out/q.csv");
        store
            .put(&path, PutPayload::from_static(CSV))
            .await
            .unwrap();
        let opts = ReadOptions {
            part_size: 5,
            concurrency: 3,
            batch_size: 2,
            decoders: 3,
            ..Default::default()
        };
        let s = read_csv(
            Arc::clone(&store),
            path,
            "s3://b/out/q.csv".into(),
            schema(),
            opts,
            None,
        )
        .await
        .unwrap();
        let batches: Vec<RecordBatch> = s.map(|b| b.unwrap()).collect().await;
        // Pieces end at record boundaries, so a batch may be short but never too long.
        assert!(batches.iter().all(|b| b.num_rows() <= 2));
        check(&batches);

        let missing = read_csv(
            store,
            Path::from("nope.csv"),
            "s3://b/nope.csv".into(),
            schema(),
            opts,
            None,
        )
        .await;
        let err = missing.err().expect("missing object");
        assert!(err.is_s3_unavailable(), "{err}");
        assert!(err.to_string().contains("s3://b/nope.csv"), "{err}");
    }
}
