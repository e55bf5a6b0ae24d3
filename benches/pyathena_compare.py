#!/usr/bin/env python3
"""Side-by-side benchmark: PyAthena against datafusion-athena on the same emulator result.

One run generates a table of N rows (bigint, double, varchar with NULLs and empty strings,
date, timestamp, decimal(18,2); written by the Rust bench binary `pyathena_compare`), serves it
with `datafusion-athena emulator`, and reads `SELECT * FROM bench.results` with

  - PyAthena's default cursor (GetQueryResults pages, rows as Python tuples),
  - PyAthena's ArrowCursor (the result CSV from S3 into a pyarrow Table),
  - datafusion-athena with ResultFetcher=S3, GetQueryResults and Unload (DataFusion plan over
    the Athena catalog, record batches streamed),

each in its own process, so that each peak RSS (getrusage of that child: ru_maxrss) is that
client's alone. Each client times from starting the query to having the last row, minus the
time spent computing its checksum, and prints the checksum (row count, sums of every column,
NULL and empty-string counts) which must equal the generated table's. It prints rows/s and
peak RSS of each, with ratios to PyAthena's default cursor.

Usage (a Python with pyathena, pyarrow and boto3 runs the script; the PyAthena children reuse
it; benches/pyathena_compare.sh finds the project's venv):

  benches/pyathena_compare.sh [--rows 1000000,10000000] [--profile release|debug]
      [--no-build] [--cli PATH] [--client PATH] [--only NAMES] [--work DIR]
  VENV/bin/python benches/pyathena_compare.py ...   # the same

  --rows       comma-separated row counts (default 1000000,10000000)
  --profile    release (default: `cargo build --release -p datafusion-athena-cli` and
               `cargo bench --no-run --bench pyathena_compare`) or debug (`cargo build`,
               `cargo test --no-run`), both under $CARGO_TARGET_DIR (default ./target)
  --no-build   use --cli/--client (or the profile's usual paths) as they are
  --cli        the datafusion-athena binary (serves the emulator)
  --client     the pyathena_compare bench binary (generates the data, runs our three paths)
  --only       comma-separated subset of: pyathena,pyathena-arrow,s3,gqr,unload
  --work       where the data and the emulator's storage go (default: a temporary directory)
"""

import argparse
import datetime
import decimal
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONN_ENV = "PYATHENA_COMPARE_CONNECTION"
SQL = "SELECT * FROM bench.results"
FIELDS = ["rows", "id_sum", "x_nulls", "x4_sum", "s_nulls", "s_empty", "s_bytes", "day_sum", "ts_sum", "amount_sum"]

# name, label, how it runs
CONTENDERS = [
    ("pyathena", "PyAthena default cursor", ("python", "default")),
    ("pyathena-arrow", "PyAthena ArrowCursor", ("python", "arrow")),
    ("s3", "datafusion-athena S3", ("rust", "S3")),
    ("gqr", "datafusion-athena GetQueryResults", ("rust", "GetQueryResults")),
    ("unload", "datafusion-athena Unload", ("rust", "Unload")),
]


# ------------------------------------------------------------------------------------------
# Children: PyAthena clients. Each prints one JSON line like the Rust client.

def parse_connection(conn):
    props = {}
    for part in conn.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            props[key.strip()] = value.strip()
    return props


class Tally:
    """The checksum the Rust side computes (see Tally in benches/pyathena_compare.rs)."""

    EPOCH_DAY = datetime.date(1970, 1, 1)
    EPOCH = datetime.datetime(1970, 1, 1)
    MS = datetime.timedelta(milliseconds=1)

    def __init__(self):
        self.v = dict.fromkeys(FIELDS, 0)

    def add_rows(self, rows):
        v = self.v
        for id_, x, s, day, ts, amount in rows:
            v["rows"] += 1
            v["id_sum"] += id_
            if x is None:
                v["x_nulls"] += 1
            else:
                v["x4_sum"] += int(x * 4)
            if s is None:
                v["s_nulls"] += 1
            else:
                v["s_empty"] += s == ""
                v["s_bytes"] += len(s.encode())
            if day is not None:
                v["day_sum"] += (day - self.EPOCH_DAY).days
            if ts is not None:
                v["ts_sum"] += (ts - self.EPOCH) // self.MS
            if amount is not None:
                v["amount_sum"] += int(decimal.Decimal(amount).scaleb(2))

    def add_table(self, table):
        """A pyarrow Table, with pyarrow.compute where the types allow it."""
        import pyarrow as pa
        import pyarrow.compute as pc

        v = self.v
        v["rows"] += table.num_rows
        col = table.column
        v["id_sum"] += pc.sum(col("id")).as_py() or 0
        x = col("x")
        v["x_nulls"] += x.null_count
        v["x4_sum"] += pc.sum(pc.cast(pc.multiply(x, 4.0), pa.int64(), safe=False)).as_py() or 0
        s = col("s")
        v["s_nulls"] += s.null_count
        v["s_empty"] += pc.sum(pc.cast(pc.equal(s, ""), pa.int64())).as_py() or 0
        v["s_bytes"] += pc.sum(pc.binary_length(s)).as_py() or 0
        day = col("day")
        if pa.types.is_date32(day.type):
            v["day_sum"] += pc.sum(pc.cast(pc.cast(day, pa.int32()), pa.int64())).as_py() or 0
        else:
            self._slow("day", day, lambda d: (d - self.EPOCH_DAY).days)
        ts = col("ts")
        if pa.types.is_timestamp(ts.type):
            raw = pc.cast(ts, pa.int64())
            unit = ts.type.unit
            if unit == "s":
                raw = pc.multiply(raw, 1000)
            elif unit != "ms":
                raw = pc.divide(raw, {"us": 1000, "ns": 1_000_000}[unit])
            # Summed as decimal: ten million millisecond timestamps overflow int64.
            total = pc.sum(pc.cast(raw, pa.decimal128(38, 0))).as_py()
            v["ts_sum"] += int(total) if total is not None else 0
        else:
            self._slow("ts", ts, lambda t: (t - self.EPOCH) // self.MS)
        amount = col("amount")
        if pa.types.is_decimal(amount.type):
            total = pc.sum(amount).as_py()
            v["amount_sum"] += int(total.scaleb(2)) if total is not None else 0
        elif pa.types.is_string(amount.type):
            # The ArrowCursor leaves decimals as text ("-499920.81"), a NULL as "".
            present = pc.filter(amount, pc.not_equal(amount, ""))
            cents = pc.cast(pc.replace_substring(present, ".", ""), pa.int64())
            v["amount_sum"] += pc.sum(cents).as_py() or 0
        else:
            self._slow("amount", amount, lambda a: int(decimal.Decimal(str(a)).scaleb(2)))

    def _slow(self, field, column, convert):
        key = {"day": "day_sum", "ts": "ts_sum", "amount": "amount_sum"}[field]
        for value in column.to_pylist():
            if value is not None:
                self.v[key] += convert(value)

    def checksum(self):
        return {k: str(self.v[k]) for k in FIELDS}


def pyathena_connect(cursor_class=None):
    import pyathena

    props = parse_connection(os.environ[CONN_ENV])
    endpoint = props["Endpoint"]
    kwargs = dict(
        s3_staging_dir=props["S3StagingDirectory"], region_name=props["AWSRegion"],
        endpoint_url=endpoint, schema_name=props.get("Database", "default"),
        aws_access_key_id=props["AWSAccessKey"], aws_secret_access_key=props["AWSSecretKey"],
    )
    if cursor_class is not None:
        # The ArrowCursor reads the result with pyarrow's S3 filesystem, which takes neither
        # the connection's endpoint nor its keys: point it at the emulator.
        from pyarrow import fs
        from pyathena.arrow.result_set import AthenaArrowResultSetMetadataReader

        os.environ["AWS_ENDPOINT_URL_S3"] = endpoint

        def s3_file_system(self):
            return fs.S3FileSystem(
                region=props["AWSRegion"], access_key=props["AWSAccessKey"],
                secret_key=props["AWSSecretKey"], endpoint_override=endpoint.split("://", 1)[1],
                scheme="http",
            )

        AthenaArrowResultSetMetadataReader._create_s3_file_system = s3_file_system
        kwargs["cursor_class"] = cursor_class
    return pyathena.connect(**kwargs)


def child_default():
    cursor = pyathena_connect().cursor()
    tally, checksum_time = Tally(), 0.0
    started = time.perf_counter()
    cursor.execute(SQL)
    while True:
        rows = cursor.fetchmany(10_000)
        if not rows:
            break
        t = time.perf_counter()
        tally.add_rows(rows)
        checksum_time += time.perf_counter() - t
    total = time.perf_counter() - started
    return tally, total - checksum_time, checksum_time, "GetQueryResults"


def child_arrow():
    from pyathena.arrow.cursor import ArrowCursor

    cursor = pyathena_connect(ArrowCursor).cursor()
    started = time.perf_counter()
    cursor.execute(SQL)
    table = cursor.as_arrow()
    seconds = time.perf_counter() - started
    t = time.perf_counter()
    tally = Tally()
    tally.add_table(table)
    return tally, seconds, time.perf_counter() - t, "S3 (pyarrow CSV)"


def run_child(kind):
    tally, seconds, checksum_seconds, path = {"default": child_default, "arrow": child_arrow}[kind]()
    print(json.dumps({
        "rows": tally.v["rows"], "checksum": tally.checksum(), "seconds": seconds,
        "checksum_seconds": checksum_seconds, "fetch_path": path,
    }))


# ------------------------------------------------------------------------------------------
# The driver

def log(message):
    print(message, file=sys.stderr, flush=True)


def cargo(args, json_target=None):
    """Runs cargo; with json_target, returns the executable of that bench target."""
    cmd = ["cargo"] + args
    if json_target:
        cmd.append("--message-format=json-render-diagnostics")
    log("$ " + " ".join(cmd))
    out = subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE if json_target else None, text=True)
    if not json_target:
        return None
    for line in out.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == json_target and msg.get("executable"):
            return msg["executable"]
    raise SystemExit(f"cargo built no executable for {json_target}")


def binaries(opts):
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    release = opts.profile == "release"
    cli = opts.cli or os.path.join(target, "release" if release else "debug", "datafusion-athena")
    client = opts.client
    if not opts.no_build:
        cargo(["build", "-p", "datafusion-athena-cli"] + (["--release"] if release else []))
        built = cargo(
            (["bench"] if release else ["test"]) + ["--no-run", "-p", "datafusion-athena", "--bench", "pyathena_compare"],
            json_target="pyathena_compare",
        )
        client = client or built
    if not client:
        # The newest pyathena_compare-<hash> of the profile.
        deps = os.path.join(target, "release" if release else "debug", "deps")
        found = [p for p in glob.glob(os.path.join(deps, "pyathena_compare-*")) if os.access(p, os.X_OK) and "." not in os.path.basename(p)]
        if not found:
            raise SystemExit(f"no pyathena_compare binary under {deps}: build it or give --client")
        client = max(found, key=os.path.getmtime)
    for path in (cli, client):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{path} is not an executable")
    return cli, client


def measure(cmd, env):
    """Runs cmd; returns (its JSON line, peak RSS in bytes, wall seconds)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        # wait4 gives this child's own rusage (ru_maxrss in KiB on Linux).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{stderr[-3000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed no result:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return json.loads(lines[-1]), usage.ru_maxrss * 1024, wall


def start_emulator(cli, data, storage):
    proc = subprocess.Popen(
        [cli, "emulator", "--data", data, "--storage", storage, "--database", "bench"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline().strip()
    if not line:
        proc.kill()
        raise SystemExit("the emulator printed no connection string")
    return proc, line


def clean_results(storage):
    """Removes query results between clients (10M rows are ~1 GB of CSV per query)."""
    for path in glob.glob(os.path.join(storage, "athena-results", "staging", "*")):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)


def fmt_rate(r):
    return f"{r:,.0f}"


def bench_rows(rows, opts, cli, client, work):
    data, storage = os.path.join(work, f"data-{rows}"), os.path.join(work, f"s3-{rows}")
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(storage, ignore_errors=True)
    log(f"generating {rows:,} rows")
    expected, _, _ = measure([client, "--role", "generate", "--rows", str(rows), "--data", data], dict(os.environ))
    emulator, conn = start_emulator(cli, data, storage)
    results = []
    try:
        env = dict(os.environ)
        env[CONN_ENV] = conn
        for name, label, (lang, arg) in CONTENDERS:
            if opts.only and name not in opts.only:
                continue
            if lang == "python":
                cmd = [opts.python, os.path.abspath(__file__), "--child", arg]
            else:
                cmd = [client, "--role", "client", "--fetcher", arg]
            log(f"{rows:,} rows: {label} ...")
            result, peak, wall = measure(cmd, env)
            clean_results(storage)
            diff = [k for k in FIELDS if result["checksum"].get(k) != expected["checksum"][k]]
            results.append(dict(name=name, label=label, result=result, peak=peak, wall=wall, diff=diff))
            log(f"  {result['rows']:,} rows in {result['seconds']:.2f} s, peak RSS {peak / 2**20:.0f} MiB"
                + ("" if not diff else f", checksum differs in {', '.join(diff)}"))
    finally:
        emulator.terminate()
        emulator.wait()
    report(rows, expected, results)
    return results


def report(rows, expected, results):
    base = next((r for r in results if r["name"] == "pyathena"), None)
    print(f"\n{rows:,} rows: SELECT * FROM bench.results (6 columns), one emulator, each client in its own process")
    header = f"| {'client':<34} | {'rows':>10} | {'seconds':>8} | {'rows/s':>10} | {'vs PyAthena':>11} | {'peak RSS':>9} | {'vs PyAthena':>11} | checksum |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for r in results:
        res = r["result"]
        rate = res["rows"] / res["seconds"] if res["seconds"] > 0 else float("inf")
        speed = mem = "-"
        if base is not None:
            b = base["result"]
            base_rate = b["rows"] / b["seconds"] if b["seconds"] > 0 else float("inf")
            speed = f"{rate / base_rate:.1f}x"
            mem = f"{r['peak'] / base['peak']:.2f}x"
        check = "equal" if not r["diff"] else "differs: " + ",".join(r["diff"])
        print(f"| {r['label']:<34} | {res['rows']:>10,} | {res['seconds']:>8.2f} | {fmt_rate(rate):>10} | {speed:>11} | {r['peak'] / 2**20:>5.0f} MiB | {mem:>11} | {check} |")
    print(f"expected checksum (generated): rows={expected['rows']:,}, " + ", ".join(f"{k}={expected['checksum'][k]}" for k in FIELDS[1:]))
    notes = [r for r in results if r["diff"]]
    for r in notes:
        got = r["result"]["checksum"]
        print(f"  {r['label']}: " + ", ".join(f"{k}={got.get(k)} (expected {expected['checksum'][k]})" for k in r["diff"]))
    if any(r["name"] == "pyathena-arrow" and set(r["diff"]) <= {"s_nulls", "s_empty"} and r["diff"] for r in results):
        print("  (PyAthena's ArrowCursor reads the result CSV without telling NULL from an empty string: "
              "every NULL varchar arrives as \"\".)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=["default", "arrow"], help=argparse.SUPPRESS)
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--profile", choices=["release", "debug"], default="release")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--cli")
    parser.add_argument("--client")
    parser.add_argument("--python", default=sys.executable, help=argparse.SUPPRESS)
    parser.add_argument("--only", type=lambda s: set(s.split(",")))
    parser.add_argument("--work")
    opts = parser.parse_args()
    if opts.child:
        run_child(opts.child)
        return
    try:
        import pyarrow  # noqa: F401
        import pyathena  # noqa: F401
    except ImportError as e:
        raise SystemExit(f"{e}: run this script with a Python that has pyathena, pyarrow and boto3 "
                         "(e.g. /root/.cache/datafusion-athena-venv/bin/python, or pip install pyathena pyarrow boto3)")
    if opts.only:
        unknown = opts.only - {c[0] for c in CONTENDERS}
        if unknown:
            raise SystemExit(f"--only: unknown {sorted(unknown)}; use {[c[0] for c in CONTENDERS]}")
    try:
        counts = [int(r.replace("_", "")) for r in opts.rows.split(",") if r.strip()]
    except ValueError:
        raise SystemExit(f"--rows {opts.rows!r}: expected comma-separated row counts such as 1000000,10000000")
    cli, client = binaries(opts)
    import pyathena as pa_mod
    import pyarrow as arrow_mod

    print(f"# benches/pyathena_compare.py --rows {opts.rows} --profile {opts.profile}")
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"PyAthena {pa_mod.__version__}, pyarrow {arrow_mod.__version__}")
    print(f"# datafusion-athena: {cli}\n# client: {client}")
    work = opts.work or tempfile.mkdtemp(prefix="pyathena-compare-")
    failed = False
    try:
        for rows in counts:
            results = bench_rows(rows, opts, cli, client, work)
            failed |= any(r["diff"] and not (r["name"] == "pyathena-arrow" and set(r["diff"]) <= {"s_nulls", "s_empty"}) for r in results)
            failed |= any(r["result"]["rows"] != rows for r in results)
    finally:
        if not opts.work:
            shutil.rmtree(work, ignore_errors=True)
    if failed:
        raise SystemExit("a client returned a different row count or checksum")


if __name__ == "__main__":
    main()
