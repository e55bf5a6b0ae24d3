//! Trino's client protocol: `POST /v1/statement`, then `GET nextUri` until there is none.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// The user the emulator's queries run as.
const USER: &str = "athena-emulator";

/// One response of the protocol.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response {
    pub(crate) next_uri: Option<String>,
    pub(crate) columns: Option<Vec<Column>>,
    pub(crate) data: Option<Vec<Vec<Box<RawValue>>>>,
    #[serde(default)]
    pub(crate) stats: Stats,
    pub(crate) error: Option<QueryError>,
}

/// A result column.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Column {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) type_name: String,
    pub(crate) type_signature: Value,
}

/// The statistics the emulator reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stats {
    #[serde(default)]
    pub(crate) physical_input_bytes: u64,
}

/// A failed query's error.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryError {
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) error_name: String,
    #[serde(default)]
    pub(crate) error_type: String,
}

/// Failures talking to Trino (not errors of the query itself).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("Trino at {url}: {message}")]
    Transport { url: String, message: String },
}

/// A connection to one Trino server, as one user, in one catalog.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    fn transport(&self, message: impl std::fmt::Display) -> ClientError {
        ClientError::Transport {
            url: self.base.clone(),
            message: message.to_string(),
        }
    }

    /// Submits `sql` with `catalog`/`schema` as the session's defaults.
    pub(crate) async fn submit(
        &self,
        sql: &str,
        catalog: Option<&str>,
        schema: Option<&str>,
    ) -> Result<Response, ClientError> {
        self.retrying(|| {
            let mut request = self
                .http
                .post(format!("{}/v1/statement", self.base))
                .header("X-Trino-Source", "datafusion-athena-emulator")
                .header("X-Trino-Time-Zone", "UTC")
                .body(sql.to_owned());
            if let Some(catalog) = catalog {
                request = request.header("X-Trino-Catalog", catalog);
            }
            if let Some(schema) = schema {
                request = request.header("X-Trino-Schema", schema);
            }
            request
        })
        .await
    }

    /// Follows `next_uri`.
    pub(crate) async fn next(&self, next_uri: &str) -> Result<Response, ClientError> {
        self.retrying(|| self.http.get(next_uri)).await
    }

    /// Sends a request, again while Trino answers 502/503/504.
    async fn retrying(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, ClientError> {
        for attempt in 1..=20 {
            let sent = request().header("X-Trino-User", USER).send().await;
            if let Some(response) = self.read(sent).await? {
                return Ok(response);
            }
            tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
        }
        Err(self.transport("busy (502/503/504) for too long"))
    }

    /// Cancels a running query (best effort).
    pub(crate) async fn cancel(&self, next_uri: &str) {
        let _ = self
            .http
            .delete(next_uri)
            .header("X-Trino-User", USER)
            .send()
            .await;
    }

    /// `Ok(None)` when Trino asks to retry.
    async fn read(
        &self,
        sent: reqwest::Result<reqwest::Response>,
    ) -> Result<Option<Response>, ClientError> {
        let response = sent.map_err(|e| self.transport(e))?;
        let status = response.status();
        if matches!(status.as_u16(), 502..=504) {
            return Ok(None);
        }
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        if !status.is_success() {
            return Err(self.transport(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(500)])
            )));
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| self.transport(format!("unreadable response: {e}")))
    }

    /// Runs a statement to its end, discarding rows; the error of a failed statement is
    /// returned as `ERROR_NAME: message`.
    pub(crate) async fn execute(&self, sql: &str) -> Result<(), String> {
        let mut response = self
            .submit(sql, None, None)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            if let Some(error) = response.error {
                return Err(format!("{}: {}", error.error_name, error.message));
            }
            let Some(next) = response.next_uri else {
                return Ok(());
            };
            response = self.next(&next).await.map_err(|e| e.to_string())?;
        }
    }
}
