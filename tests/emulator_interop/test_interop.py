"""Drives the emulator with boto3 and PyAthena, as a user would drive Athena.

Reads EMULATOR_CONNECTION_STRING (printed by the emulator) and checks that these clients read
the right rows and types, NULL versus empty string included. Exits non-zero on the first
failed check.
"""

import os
import sys
import time

import boto3
import pyathena
from pyathena.arrow.cursor import ArrowCursor
from pyathena.arrow.result_set import AthenaArrowResultSetMetadataReader

VALUES_SQL = (
    "SELECT * FROM (VALUES (1, 'a', 1.5), (2, '', NULL), (3, NULL, 2.0)) AS t(id, s, d) ORDER BY id"
)
EXPECTED_CSV = (
    b'"id","s","d"\n'
    b'"1","a","1.5"\n'
    b'"2","",\n'
    b'"3",,"2.0"\n'
)


def parse(conn: str) -> dict:
    props = {}
    for part in conn.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            props[key.strip()] = value.strip()
    return props


PROPS = parse(os.environ["EMULATOR_CONNECTION_STRING"])
ENDPOINT = PROPS["Endpoint"]
REGION = PROPS["AWSRegion"]
STAGING = PROPS["S3StagingDirectory"]
DATABASE = PROPS.get("Database", "default")
KEYS = dict(aws_access_key_id=PROPS["AWSAccessKey"], aws_secret_access_key=PROPS["AWSSecretKey"])
# PyAthena's Arrow cursor sizes the result object with its own boto3 S3 client, which takes
# its endpoint from the environment only.
os.environ["AWS_ENDPOINT_URL_S3"] = ENDPOINT


def client(service: str):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION, **KEYS)


def check(condition: bool, what: str) -> None:
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def wait(athena, query_id: str) -> dict:
    for _ in range(600):
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        time.sleep(0.05)
    raise AssertionError(f"query {query_id} did not finish")


def test_boto3() -> None:
    athena = client("athena")
    query_id = athena.start_query_execution(
        QueryString=VALUES_SQL, QueryExecutionContext={"Database": DATABASE}
    )["QueryExecutionId"]
    execution = wait(athena, query_id)
    check(execution["Status"]["State"] == "SUCCEEDED", "boto3: query succeeded")
    results = athena.get_query_results(QueryExecutionId=query_id)
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in results["ResultSet"]["Rows"]]
    check(rows[0] == ["id", "s", "d"], "boto3: header row first")
    check(rows[1:] == [["1", "a", "1.5"], ["2", "", None], ["3", None, "2.0"]], f"boto3: rows {rows[1:]}")
    types = [c["Type"] for c in results["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    check(types == ["bigint", "varchar", "double"], f"boto3: column types {types}")

    bad = athena.start_query_execution(QueryString="SELECT * FROM missing_table")["QueryExecutionId"]
    failed = wait(athena, bad)
    check(failed["Status"]["State"] == "FAILED", "boto3: bad SQL fails the query")
    check(failed["Status"]["AthenaError"]["ErrorType"] == 1110, "boto3: table not found is ErrorType 1110")

    s3 = client("s3")
    location = execution["ResultConfiguration"]["OutputLocation"]
    bucket, key = location[len("s3://"):].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    check(body == EXPECTED_CSV, f"boto3: result CSV bytes {body!r}")
    ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-3")["Body"].read()
    check(ranged == EXPECTED_CSV[:4], "boto3: ranged GetObject")
    s3.put_object(Bucket=bucket, Key="interop/hello.txt", Body=b"hello")
    check(s3.get_object(Bucket=bucket, Key="interop/hello.txt")["Body"].read() == b"hello", "boto3: PutObject")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="interop/")
    check([o["Key"] for o in listed.get("Contents", [])] == ["interop/hello.txt"], "boto3: ListObjectsV2")
    s3.delete_object(Bucket=bucket, Key="interop/hello.txt")
    check(s3.list_objects_v2(Bucket=bucket, Prefix="interop/")["KeyCount"] == 0, "boto3: DeleteObject")

    glue = client("glue")
    tables = glue.get_tables(DatabaseName="lake")["TableList"]
    check([t["Name"] for t in tables] == ["cities"], "boto3: Glue GetTables")
    columns = [(c["Name"], c["Type"]) for c in tables[0]["StorageDescriptor"]["Columns"]]
    check(columns == [("city", "string"), ("population", "bigint")], f"boto3: Glue columns {columns}")

    wrong = boto3.client(
        "athena", endpoint_url=ENDPOINT, region_name=REGION,
        aws_access_key_id=KEYS["aws_access_key_id"], aws_secret_access_key="wrong",
    )
    try:
        wrong.list_work_groups()
        check(False, "boto3: a wrong secret is rejected")
    except wrong.exceptions.ClientError as e:
        check(e.response["Error"]["Code"] == "InvalidSignatureException", "boto3: a wrong secret is rejected")


def connect(**kwargs):
    return pyathena.connect(
        s3_staging_dir=STAGING, region_name=REGION, endpoint_url=ENDPOINT, schema_name=DATABASE,
        **KEYS, **kwargs,
    )


def test_pyathena_default_cursor() -> None:
    cursor = connect().cursor()
    cursor.execute(VALUES_SQL)
    rows = cursor.fetchall()
    check(rows == [(1, "a", 1.5), (2, "", None), (3, None, 2.0)], f"PyAthena cursor: rows {rows}")
    check([d[1] for d in cursor.description] == ["bigint", "varchar", "double"], "PyAthena cursor: types")
    cursor.execute("SELECT city, population FROM cities ORDER BY population DESC")
    check(cursor.fetchall() == [("Oslo", 700000), ("Bergen", 290000), ("Tromso", 77000)], "PyAthena cursor: CSV table")


def test_pyathena_arrow_cursor() -> None:
    host_port = ENDPOINT.split("://", 1)[1]

    def s3_file_system(self):
        from pyarrow import fs

        return fs.S3FileSystem(
            region=REGION, access_key=KEYS["aws_access_key_id"], secret_key=KEYS["aws_secret_access_key"],
            endpoint_override=host_port, scheme="http",
        )

    AthenaArrowResultSetMetadataReader._create_s3_file_system = s3_file_system
    cursor = connect(cursor_class=ArrowCursor).cursor()
    cursor.execute(VALUES_SQL)
    table = cursor.as_arrow()
    check(table.num_rows == 3, "PyAthena Arrow cursor: 3 rows")
    check(table.column("id").to_pylist() == [1, 2, 3], "PyAthena Arrow cursor: bigint column")
    check(table.column("d").to_pylist() == [1.5, None, 2.0], "PyAthena Arrow cursor: double column with NULL")
    check(table.column("s").to_pylist()[0] == "a", "PyAthena Arrow cursor: varchar column")
    cursor.execute("SELECT city, population FROM cities ORDER BY population DESC")
    table = cursor.as_arrow()
    check(table.column("population").to_pylist() == [700000, 290000, 77000], "PyAthena Arrow cursor: CSV table")


if __name__ == "__main__":
    test_boto3()
    test_pyathena_default_cursor()
    test_pyathena_arrow_cursor()
    print("emulator interop: all checks passed")
