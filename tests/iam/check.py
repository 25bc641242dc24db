"""Least privilege, proven: each scheduled job runs under exactly the policy Terraform gives its task
role, against a local S3 server that enforces IAM.

  1. The policies are rendered from terraform/modules/jobs/policies/<job>.json.tftpl with this lake's
     bucket and prefixes (plain `${name}` substitutions, as Terraform's templatefile does).
  2. On a moto server of its own, still open: a bucket, the sample bronze, one IAM user per job holding
     only that job's policy, and its access key. Then IAM enforcement is switched on.
  3. Every job succeeds under its own credentials: setup (tables through Athena), hourly over a day's
     arrival hours, then daily, then a model over that day's gold.
  4. And fails where its policy says no: the hourly job's credentials cannot write gold, delete
     bronze or create a table, and the daily job run with them exits 1 having committed nothing; the
     daily job's credentials cannot write silver, build a model or run Athena statements; the models
     job's cannot write gold or silver; the export job (gold and a model into PostgreSQL) writes only
     its manifests.

moto checks Athena and Glue calls against resource "*" only, so for setup this proves its policy lists
every action it calls, not the workgroup and database scoping (see `for_moto`).

  python check.py --endpoint http://127.0.0.1:PORT --binary target/debug/eventlake
"""

import argparse
import json
import os
import pathlib
import re
import subprocess
import tempfile
import sys
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "terraform/modules/jobs/policies"
BUCKET = "eventlake-iam"
LAKE = "lake"
REGION = "us-east-1"
ACCOUNT = "123456789012"
DAY = "2026-11-20"


def render(job: str) -> str:
    variables = {
        "bucket_arn": f"arn:aws:s3:::{BUCKET}",
        "lake_prefix": LAKE,
        "results_prefix": "athena-results",
        "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000",
        "region": REGION,
        "workgroup_arn": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/eventlake",
        "glue_catalog_arn": f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
        "glue_database_arn": f"arn:aws:glue:{REGION}:{ACCOUNT}:database/eventlake",
        "glue_tables_arn": f"arn:aws:glue:{REGION}:{ACCOUNT}:table/eventlake/*",
    }
    text = (TEMPLATES / f"{job}.json.tftpl").read_text()

    def substitute(m: re.Match) -> str:
        if m.group(1) not in variables:
            sys.exit(f"{job}.json.tftpl: unknown template variable {m.group(1)}")
        return variables[m.group(1)]

    rendered = re.sub(r"\$\{([a-z_]+)\}", substitute, text)
    return json.dumps(for_moto(json.loads(rendered)))


def for_moto(policy: dict) -> dict:
    """The two adaptations to the test server, neither of which widens what AWS would allow:
    - moto authorizes a multi-object delete (what object_store sends for every delete) against the
      bucket's ARN, where AWS checks s3:DeleteObject on each key. Adding the bucket ARN to the delete
      statements grants nothing in AWS (object actions never apply to a bucket ARN); single-object
      deletes below are still checked per key.
    - moto checks Athena and Glue calls against resource "*", never against the workgroup or table
      ARN, so those statements keep their actions (every call setup makes must be listed) with
      resource "*"."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if "s3:DeleteObject" in actions:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            statement["Resource"] = [*resources, f"arn:aws:s3:::{BUCKET}"]
        if all(a.startswith(("athena:", "glue:")) for a in actions):
            statement["Resource"] = "*"
    return policy


def client(service: str, endpoint: str, key: tuple[str, str]):
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key[0], aws_secret_access_key=key[1]
    )


def athena(endpoint: str, key: tuple[str, str], operation: str, body: dict) -> int:
    """One Athena call in its JSON 1.1 protocol (what the Rust SDK speaks and moto routes; botocore
    1.44 speaks another), signed with `key`; the HTTP status."""
    request = AWSRequest(
        method="POST",
        url=f"{endpoint}/",
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": f"AmazonAthena.{operation}", "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(*key), "athena", REGION).add_auth(request)
    prepared = request.prepare()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
        ) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def set_enforcement(endpoint: str, count: str) -> None:
    # Plain text: a form content type would leave the body to the form parser.
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request)


def run(binary: str, endpoint: str, key: tuple[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=key[0],
        AWS_SECRET_ACCESS_KEY=key[1],
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=endpoint,
        AWS_ALLOW_HTTP="true",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_VIRTUAL_HOSTED_STYLE_REQUEST="false",
    )
    schemas = str(ROOT / "tests/fixtures/schemas")
    cmd = [binary, "--log-format", "json", *args[:1], "--lake", f"s3://{BUCKET}/{LAKE}", "--schemas", schemas, *args[1:]]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def expect(ok: bool, what: str, detail: object = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        print(detail, file=sys.stderr)
        raise SystemExit(1)


def denied(call) -> bool:
    try:
        call()
    except botocore.exceptions.ClientError as e:
        # moto answers JSON-protocol services (Glue) with an XML error body, so boto3 reports only the 403.
        return e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    admin = ("test", "test")

    # --- while the server is open: the lake, the users, their policies --------------------------
    s3 = client("s3", args.endpoint, admin)
    s3.create_bucket(Bucket=BUCKET)
    bronze = ROOT / "tests/fixtures/bronze/sample"
    for path in sorted(p for p in bronze.rglob("*") if p.is_file()):
        s3.put_object(Bucket=BUCKET, Key=f"{LAKE}/bronze/{path.relative_to(bronze).as_posix()}", Body=path.read_bytes())
    iam = client("iam", args.endpoint, admin)
    keys = {}
    for job in ("hourly", "daily", "models", "setup", "export"):
        iam.create_user(UserName=f"eventlake-{job}")
        iam.put_user_policy(UserName=f"eventlake-{job}", PolicyName=f"{job}-access", PolicyDocument=render(job))
        k = iam.create_access_key(UserName=f"eventlake-{job}")["AccessKey"]
        keys[job] = (k["AccessKeyId"], k["SecretAccessKey"])
    status = athena(args.endpoint, admin, "CreateWorkGroup", {"Name": "eventlake"})
    expect(status == 200, "the Athena workgroup exists", status)
    some_bronze = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{LAKE}/bronze/")["Contents"][0]["Key"]
    set_enforcement(args.endpoint, "0")
    try:
        hourly, daily, models, setup = keys["hourly"], keys["daily"], keys["models"], keys["setup"]
        out = run(
            args.binary, args.endpoint, setup, "setup", "--database", "eventlake", "--workgroup", "eventlake",
            "--output-location", f"s3://{BUCKET}/athena-results/", "--database-exists", "--execute",
        )
        expect(out.returncode == 0, "setup applies the tables under the setup policy", out.stderr[-3000:])
        # --- every job succeeds under its own policy ---------------------------------------------
        out = run(args.binary, args.endpoint, hourly, "hourly", "--from", f"{DAY}T00", "--to", "2026-11-21T02", "--no-metrics")
        expect(out.returncode == 0, "hourly runs a day of arrival hours under the hourly policy", out.stderr[-3000:])
        out = run(args.binary, args.endpoint, daily, "daily", "--date", DAY, "--no-metrics", "--report")
        expect(out.returncode == 0, "daily builds gold and its quality page under the daily policy", out.stderr[-3000:])
        page = client("s3", args.endpoint, daily).list_objects_v2(Bucket=BUCKET, Prefix=f"{LAKE}/reports/dt={DAY}/")
        expect(page.get("KeyCount", 0) == 1, "and the page is in the lake", page.get("Contents"))
        with tempfile.TemporaryDirectory() as model_dir:
            (pathlib.Path(model_dir) / "events_per_name.sql").write_text(
                "-- materialized: incremental\nSELECT event_name, count(*) AS events, dt FROM gold_events GROUP BY event_name, dt\n"
            )
            out = run(args.binary, args.endpoint, models, "models", "--models", model_dir, "--date", DAY)
            expect(out.returncode == 0, "models builds a model over gold under the models policy", out.stderr[-3000:])
            listing = client("s3", args.endpoint, models).list_objects_v2(Bucket=BUCKET, Prefix=f"{LAKE}/models/events_per_name/dt={DAY}/")
            built = listing.get("KeyCount", 0)
            expect(built > 0, "and writes its files", built)
            out = run(args.binary, args.endpoint, daily, "models", "--models", model_dir, "--date", DAY, "--force")
            expect(out.returncode == 1, "the models job under the daily policy fails", out.stderr[-3000:])
            # The export reads gold and models and writes only its manifest (PostgreSQL from tests/run).
            export = keys["export"]
            database = os.environ.get("EVENTLAKE_TEST_POSTGRES_URL")
            if database:
                tables = "gold_account,events_per_name"
                common = ("--models", model_dir, "--to", database, "--table", tables, "--date", DAY, "--no-metrics")
                out = run(args.binary, args.endpoint, export, "export", *common)
                expect(out.returncode == 0, "export loads gold and a model under the export policy", out.stderr[-3000:])
                listing = client("s3", args.endpoint, export).list_objects_v2(Bucket=BUCKET, Prefix=f"{LAKE}/_manifests/exports/")
                expect(listing.get("KeyCount", 0) == 2, "and writes its two manifests", listing.get("Contents"))
                out = run(args.binary, args.endpoint, models, "export", *common)
                expect(out.returncode == 1, "the export under the models policy fails (no export manifests)", out.stderr[-3000:])
            else:
                print("note: no EVENTLAKE_TEST_POSTGRES_URL: the export job's policy was not run")

        # --- and nothing else -------------------------------------------------------------------
        s3_hourly = client("s3", args.endpoint, hourly)
        s3_daily = client("s3", args.endpoint, daily)
        gold = f"{LAKE}/gold/events/event_type=account/dt={DAY}/part-9.parquet"
        expect(denied(lambda: s3_hourly.put_object(Bucket=BUCKET, Key=gold, Body=b"x")), "hourly cannot write gold")
        expect(denied(lambda: s3_hourly.delete_object(Bucket=BUCKET, Key=some_bronze)), "hourly cannot delete bronze")
        expect(denied(lambda: s3_daily.put_object(Bucket=BUCKET, Key=f"{LAKE}/silver/x.parquet", Body=b"x")), "daily cannot write silver")
        s3_models = client("s3", args.endpoint, models)
        expect(denied(lambda: s3_models.put_object(Bucket=BUCKET, Key=gold, Body=b"x")), "models cannot write gold")
        expect(denied(lambda: s3_models.put_object(Bucket=BUCKET, Key=f"{LAKE}/silver/x.parquet", Body=b"x")), "models cannot write silver")
        s3_export = client("s3", args.endpoint, keys["export"])
        expect(denied(lambda: s3_export.put_object(Bucket=BUCKET, Key=gold, Body=b"x")), "export cannot write gold")
        expect(
            denied(lambda: s3_export.delete_object(Bucket=BUCKET, Key=f"{LAKE}/_manifests/daily/dt={DAY}.json")),
            "export cannot delete a daily manifest",
        )
        glue = client("glue", args.endpoint, hourly)
        expect(
            denied(lambda: glue.create_table(DatabaseName="eventlake", TableInput={"Name": "t"})),
            "hourly cannot create a table",
        )
        status = athena(args.endpoint, daily, "StartQueryExecution", {"QueryString": "DROP TABLE x", "WorkGroup": "eventlake"})
        expect(status == 403, "daily cannot run Athena statements", status)
        manifest = f"{LAKE}/_manifests/daily/dt={DAY}.json"
        before = s3_daily.head_object(Bucket=BUCKET, Key=manifest)["ETag"]
        out = run(args.binary, args.endpoint, hourly, "daily", "--date", DAY, "--force", "--no-metrics")
        expect(out.returncode == 1, "the daily job under the hourly policy fails", out.stderr[-3000:])
        after = s3_daily.head_object(Bucket=BUCKET, Key=manifest)["ETag"]
        expect(before == after, "and commits nothing")
    finally:
        set_enforcement(args.endpoint, "inf")
    print("least privilege: every job runs under its own policy and nothing more")


if __name__ == "__main__":
    main()
