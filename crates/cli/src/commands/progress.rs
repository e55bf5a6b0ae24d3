//! A one-line progress display of the Athena queries of a running statement: query state,
//! elapsed time, data scanned and rows fetched, redrawn in place on stderr and cleared at the
//! end. `sql` shows it only when stderr is a terminal, so pipes and files never see it.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion_athena_scan::{AthenaExec, QueryStatus};

/// Longest progress line, so that it stays on one row of a narrow terminal.
const MAX_WIDTH: usize = 79;
/// Moves to the start of the line and erases it.
const CLEAR_LINE: &str = "\r\x1b[2K";

/// What one Athena scan of the plan has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueryProgress {
    /// Athena's last reported state; empty before the first status poll.
    pub(crate) state: String,
    /// Bytes Athena reported scanned so far.
    pub(crate) data_scanned_bytes: u64,
    /// Result rows received so far.
    pub(crate) rows_fetched: usize,
}

/// The progress of every Athena scan of `plan` (depth first), read from their live metrics.
pub(crate) fn snapshot(plan: &Arc<dyn ExecutionPlan>) -> Vec<QueryProgress> {
    let mut found = Vec::new();
    collect(plan, &mut found);
    found
}

fn collect(plan: &Arc<dyn ExecutionPlan>, found: &mut Vec<QueryProgress>) {
    if let Some(exec) = plan.downcast_ref::<AthenaExec>() {
        let metrics = exec.metrics().unwrap_or_default();
        let status = metrics.iter().find_map(|m| match m.value() {
            MetricValue::Custom { name, value } if name == "query_state" => value
                .as_any()
                .downcast_ref::<QueryStatus>()
                .map(|s| (s.state(), s.data_scanned_bytes().unwrap_or(0))),
            _ => None,
        });
        let (state, live_scanned) = status.unwrap_or_default();
        let count = |name: &str| metrics.sum_by_name(name).map_or(0, |v| v.as_usize());
        found.push(QueryProgress {
            state,
            data_scanned_bytes: live_scanned.max(count("data_scanned_bytes") as u64),
            rows_fetched: count("rows_fetched"),
        });
    }
    for child in plan.children() {
        collect(child, found);
    }
}

/// The progress line: `athena RUNNING | 3.2 s | scanned 12.4 MB | 10,240 rows`. Several
/// queries show each state (`RUNNING, SUCCEEDED`) and the totals.
pub(crate) fn render(queries: &[QueryProgress], elapsed: Duration) -> String {
    let states: Vec<&str> = queries
        .iter()
        .map(|q| {
            if q.state.is_empty() {
                "STARTING"
            } else {
                q.state.as_str()
            }
        })
        .collect();
    let state = if states.is_empty() {
        "planning".to_string()
    } else {
        states.join(", ")
    };
    let scanned: u64 = queries.iter().map(|q| q.data_scanned_bytes).sum();
    let rows: usize = queries.iter().map(|q| q.rows_fetched).sum();
    let line = format!(
        "athena {state} | {:.1} s | scanned {} | {} rows",
        elapsed.as_secs_f64(),
        human_bytes(scanned),
        thousands(rows as u64)
    );
    line.chars().take(MAX_WIDTH).collect()
}

/// `1.2 MB` style sizes (powers of 1000, as Athena bills).
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Where the elapsed time comes from (a fake in tests).
pub(crate) trait Clock {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The progress line on a terminal: each [`draw`](Self::draw) replaces the previous line;
/// [`clear`](Self::clear) (or dropping it) erases it, leaving the terminal as it was.
#[derive(Debug)]
pub(crate) struct ProgressLine<W: Write, C: Clock> {
    out: W,
    clock: C,
    started: Instant,
    shown: Option<String>,
}

impl<W: Write, C: Clock> ProgressLine<W, C> {
    /// A line whose elapsed time counts from now.
    pub(crate) fn new(out: W, clock: C) -> Self {
        let started = clock.now();
        Self {
            out,
            clock,
            started,
            shown: None,
        }
    }

    /// Redraws the line for `queries` (nothing is written when it did not change).
    pub(crate) fn draw(&mut self, queries: &[QueryProgress]) {
        let elapsed = self.clock.now().saturating_duration_since(self.started);
        let line = render(queries, elapsed);
        if self.shown.as_deref() == Some(line.as_str()) {
            return;
        }
        // A terminal that went away is no reason to fail the query.
        let _ = write!(self.out, "{CLEAR_LINE}{line}").and_then(|()| self.out.flush());
        self.shown = Some(line);
    }

    /// Erases the line, if one is shown.
    pub(crate) fn clear(&mut self) {
        if self.shown.take().is_some() {
            let _ = write!(self.out, "{CLEAR_LINE}").and_then(|()| self.out.flush());
        }
    }
}

impl<W: Write, C: Clock> Drop for ProgressLine<W, C> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// A clock the test moves by hand.
    #[derive(Clone)]
    struct FakeClock {
        base: Instant,
        offset: Rc<Cell<Duration>>,
    }

    impl FakeClock {
        fn new() -> Self {
            Self {
                base: Instant::now(),
                offset: Rc::new(Cell::new(Duration::ZERO)),
            }
        }

        fn advance(&self, by: Duration) {
            self.offset.set(self.offset.get() + by);
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.base + self.offset.get()
        }
    }

    /// A terminal: everything written, shared so the test can read it while the line lives.
    #[derive(Clone, Default)]
    struct FakeTerminal(Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for FakeTerminal {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl FakeTerminal {
        fn text(&self) -> String {
            String::from_utf8(self.0.borrow().clone()).unwrap()
        }

        /// What a terminal shows: the text after the last line erase.
        fn visible(&self) -> String {
            self.text()
                .rsplit(CLEAR_LINE)
                .next()
                .unwrap_or_default()
                .to_string()
        }
    }

    fn query(state: &str, scanned: u64, rows: usize) -> QueryProgress {
        QueryProgress {
            state: state.into(),
            data_scanned_bytes: scanned,
            rows_fetched: rows,
        }
    }

    #[test]
    fn renders_state_elapsed_scanned_and_rows() {
        assert_eq!(
            render(
                &[query("RUNNING", 12_400_000, 10_240)],
                Duration::from_millis(3_250)
            ),
            "athena RUNNING | 3.2 s | scanned 12.4 MB | 10,240 rows"
        );
        assert_eq!(
            render(&[query("", 0, 0)], Duration::ZERO),
            "athena STARTING | 0.0 s | scanned 0 B | 0 rows"
        );
        assert_eq!(
            render(&[], Duration::from_millis(120)),
            "athena planning | 0.1 s | scanned 0 B | 0 rows"
        );
        assert_eq!(
            render(
                &[
                    query("SUCCEEDED", 999, 1_000_000),
                    query("QUEUED", 1_500, 0)
                ],
                Duration::from_secs(61)
            ),
            "athena SUCCEEDED, QUEUED | 61.0 s | scanned 2.5 kB | 1,000,000 rows"
        );
    }

    #[test]
    fn long_lines_are_cut_to_the_width() {
        let many: Vec<QueryProgress> = (0..20).map(|_| query("SUCCEEDED", 1, 1)).collect();
        let line = render(&many, Duration::from_secs(1));
        assert_eq!(line.chars().count(), MAX_WIDTH);
        assert!(line.starts_with("athena SUCCEEDED, SUCCEEDED"), "{line}");
    }

    #[test]
    fn sizes_and_counts_are_readable() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_000), "1.0 kB");
        assert_eq!(human_bytes(3_500_000_000), "3.5 GB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn redraws_in_place_with_the_injected_clock_and_clears_at_the_end() {
        let clock = FakeClock::new();
        let term = FakeTerminal::default();
        let mut line = ProgressLine::new(term.clone(), clock.clone());

        clock.advance(Duration::from_millis(400));
        line.draw(&[query("QUEUED", 0, 0)]);
        assert_eq!(
            term.text(),
            "\r\x1b[2Kathena QUEUED | 0.4 s | scanned 0 B | 0 rows"
        );

        clock.advance(Duration::from_millis(1_100));
        line.draw(&[query("RUNNING", 5_000_000, 0)]);
        assert_eq!(
            term.visible(),
            "athena RUNNING | 1.5 s | scanned 5.0 MB | 0 rows"
        );
        // The same line again writes nothing.
        let before = term.text().len();
        line.draw(&[query("RUNNING", 5_000_000, 0)]);
        assert_eq!(term.text().len(), before);

        clock.advance(Duration::from_millis(500));
        line.draw(&[query("SUCCEEDED", 7_000_000, 8_192)]);
        assert_eq!(
            term.visible(),
            "athena SUCCEEDED | 2.0 s | scanned 7.0 MB | 8,192 rows"
        );
        // Never a newline: every frame overwrites the one before.
        assert!(!term.text().contains('\n'));
        assert_eq!(term.text().matches(CLEAR_LINE).count(), 3);

        line.clear();
        assert!(term.text().ends_with(CLEAR_LINE));
        assert_eq!(term.visible(), "");
        // Clearing twice (or dropping after clear) writes nothing more.
        let before = term.text().len();
        line.clear();
        drop(line);
        assert_eq!(term.text().len(), before);
    }

    #[test]
    fn dropping_a_drawn_line_clears_it() {
        let term = FakeTerminal::default();
        {
            let mut line = ProgressLine::new(term.clone(), FakeClock::new());
            line.draw(&[query("RUNNING", 0, 0)]);
        }
        assert!(term.text().ends_with(CLEAR_LINE), "{:?}", term.text());
    }

    #[test]
    fn nothing_is_written_when_nothing_was_drawn() {
        let term = FakeTerminal::default();
        let mut line = ProgressLine::new(term.clone(), FakeClock::new());
        line.clear();
        drop(line);
        assert_eq!(term.text(), "");
    }
}

#[cfg(test)]
mod plan_tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;
    use datafusion_athena_emulator::Emulator;

    use super::snapshot;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshot_reads_state_scanned_and_rows_from_the_plan() {
        let emu = Emulator::builder().start().await.unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from_iter_values(0..2_500))],
        )
        .unwrap();
        emu.register_batches("default", "numbers", schema, vec![batch])
            .unwrap();
        let ctx = SessionContext::new();
        datafusion_athena_catalog::register_athena(&ctx, &emu.connection_string())
            .await
            .unwrap();
        let df = ctx
            .sql("SELECT n FROM numbers WHERE n >= 500")
            .await
            .unwrap();
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await.unwrap();

        let before = snapshot(&plan);
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].state, "", "no poll yet");
        assert_eq!(before[0].rows_fetched, 0);

        let rows: usize = collect(Arc::clone(&plan), task)
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(rows, 2_000);
        let after = snapshot(&plan);
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].state, "SUCCEEDED");
        assert_eq!(after[0].rows_fetched, 2_000);
        assert!(after[0].data_scanned_bytes > 0, "{after:?}");
        emu.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshot_shows_the_state_while_the_query_waits() {
        use std::time::Duration;

        let emu = Emulator::builder()
            .latencies(Duration::from_millis(400), Duration::from_millis(400))
            .start()
            .await
            .unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from_iter_values(0..10))],
        )
        .unwrap();
        emu.register_batches("default", "numbers", schema, vec![batch])
            .unwrap();
        let ctx = SessionContext::new();
        datafusion_athena_catalog::register_athena(&ctx, &emu.connection_string())
            .await
            .unwrap();
        let df = ctx.sql("SELECT n FROM numbers").await.unwrap();
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await.unwrap();
        let running = tokio::spawn(collect(Arc::clone(&plan), task));
        let mut seen = Vec::new();
        while !running.is_finished() {
            let state = snapshot(&plan)[0].state.clone();
            if seen.last() != Some(&state) {
                seen.push(state);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        running.await.unwrap().unwrap();
        seen.push(snapshot(&plan)[0].state.clone());
        assert!(
            seen.iter().any(|s| s == "QUEUED" || s == "RUNNING"),
            "states seen while waiting: {seen:?}"
        );
        assert_eq!(
            seen.last().map(String::as_str),
            Some("SUCCEEDED"),
            "{seen:?}"
        );
        emu.shutdown().await;
    }
}
