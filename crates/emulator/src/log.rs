//! The request log tests read: one record per HTTP request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Which service a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// `AmazonAthena.*`.
    Athena,
    /// `AWSGlue.*`.
    Glue,
    /// S3 REST.
    S3,
    /// STS (`awsQuery`: form-encoded `Action=...`).
    Sts,
}

/// One request the emulator answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The service.
    pub service: Service,
    /// The operation (`StartQueryExecution`, `GetTables`, `GetObject`, ...).
    pub operation: String,
    /// The SQL text of a StartQueryExecution.
    pub sql: Option<String>,
    /// The query the request was about, when there is one.
    pub query_execution_id: Option<String>,
    /// The access key id of a correctly signed request.
    pub access_key: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The AWS error code answered, if any.
    pub error_code: Option<String>,
    /// When the request arrived.
    pub received_at: SystemTime,
    /// How long the emulator took to answer (not counting the body download).
    pub duration: Duration,
}

/// The shared, append-only request log.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestLog {
    records: Arc<Mutex<Vec<RequestRecord>>>,
}

impl RequestLog {
    pub(crate) fn push(&self, record: RequestRecord) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }

    pub(crate) fn snapshot(&self) -> Vec<RequestRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn clear(&self) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
