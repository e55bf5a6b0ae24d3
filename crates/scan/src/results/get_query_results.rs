//! The GetQueryResults path: pages of up to 1000 rows, the next page requested while the current
//! one decodes. Works with managed query results and without S3 access.

use std::collections::VecDeque;
use std::sync::Arc;

use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use futures::stream::{BoxStream, StreamExt};

use super::AbortOnDrop;
use super::text::BatchDecoder;
use crate::error::{Error, Result};
use crate::lifecycle::api_error;
use crate::metrics::QueryMetrics;

/// Rows per GetQueryResults page (the API's maximum).
pub(crate) const PAGE_SIZE: i32 = 1000;

type Page = AbortOnDrop<Result<GetQueryResultsOutput>>;

fn request(client: &aws_sdk_athena::Client, query_id: &str, token: Option<String>) -> Page {
    let client = client.clone();
    let query_id = query_id.to_string();
    AbortOnDrop(tokio::spawn(async move {
        client
            .get_query_results()
            .query_execution_id(query_id)
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| api_error("GetQueryResults", e))
    }))
}

struct State {
    next: Option<Page>,
    decoder: BatchDecoder,
    batch_size: usize,
    first_page: bool,
    queue: VecDeque<RecordBatch>,
    location: String,
    metrics: QueryMetrics,
}

impl State {
    fn decode(&mut self, page: &GetQueryResultsOutput) -> Result<()> {
        let Some(rs) = page.result_set() else {
            return Ok(());
        };
        let labels: Vec<&str> = rs
            .result_set_metadata()
            .map(|m| {
                m.column_info()
                    .iter()
                    .map(|c| c.label().unwrap_or(c.name()))
                    .collect()
            })
            .unwrap_or_default();
        let width = self.decoder.width();
        if !labels.is_empty() && labels.len() != width {
            return Err(Error::MalformedResult {
                location: self.location.clone(),
                message: format!(
                    "the result has {} columns but {width} were expected",
                    labels.len()
                ),
            });
        }
        let mut rows = rs.rows().iter();
        if self.first_page {
            self.first_page = false;
            // The first row of a SELECT's first page repeats the column labels.
            let mut peek = rows.clone();
            if let Some(first) = peek.next() {
                let values: Vec<Option<&str>> =
                    first.data().iter().map(|d| d.var_char_value()).collect();
                let is_header = !labels.is_empty()
                    && values.len() == labels.len()
                    && values
                        .iter()
                        .zip(&labels)
                        .all(|(v, l)| v.is_some_and(|v| v == *l));
                if is_header {
                    rows = peek;
                }
            }
        }
        for row in rows {
            let data = row.data();
            if data.len() != width {
                return Err(Error::MalformedResult {
                    location: self.location.clone(),
                    message: format!("a row has {} fields but {width} were expected", data.len()),
                });
            }
            for (i, d) in data.iter().enumerate() {
                self.decoder.push(i, d.var_char_value())?;
            }
            self.decoder.end_row();
            if self.decoder.len() >= self.batch_size
                && let Some(b) = self.decoder.flush()?
            {
                self.queue.push_back(b);
            }
        }
        Ok(())
    }
}

/// Streams all result rows of `query_id` as batches of `schema`.
pub(crate) fn read(
    client: &aws_sdk_athena::Client,
    query_id: &str,
    schema: SchemaRef,
    batch_size: usize,
    metrics: QueryMetrics,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let state = State {
        next: Some(request(client, query_id, None)),
        decoder: BatchDecoder::new(Arc::clone(&schema), batch_size.min(8192))?,
        batch_size: batch_size.max(1),
        first_page: true,
        queue: VecDeque::new(),
        location: format!("GetQueryResults of query {query_id}"),
        metrics,
    };
    let client = client.clone();
    let query_id = query_id.to_string();
    let stream = futures::stream::unfold(Some(state), move |state| {
        let client = client.clone();
        let query_id = query_id.clone();
        async move {
            let mut state = state?;
            loop {
                if let Some(b) = state.queue.pop_front() {
                    return Some((Ok(b), Some(state)));
                }
                let pending = state.next.take()?;
                let page = match pending.await {
                    Ok(Ok(page)) => page,
                    Ok(Err(e)) => return Some((Err(e), None)),
                    Err(e) => {
                        return Some((
                            Err(Error::MalformedResult {
                                location: state.location.clone(),
                                message: format!("page request task failed: {e}"),
                            }),
                            None,
                        ));
                    }
                };
                state.metrics.result_pages.add(1);
                // Ask for the next page before decoding this one.
                if let Some(token) = page.next_token().filter(|t| !t.is_empty()) {
                    state.next = Some(request(&client, &query_id, Some(token.to_string())));
                }
                if let Err(e) = state.decode(&page) {
                    return Some((Err(e), None));
                }
                if state.next.is_none() {
                    match state.decoder.flush() {
                        Ok(Some(b)) => state.queue.push_back(b),
                        Ok(None) => {}
                        Err(e) => return Some((Err(e), None)),
                    }
                }
            }
        }
    });
    Ok(stream.boxed())
}
