#!/usr/bin/env python3
"""Checks an emulator stack applied from infra/ (emulator-apply-test.sh).

Reads `terraform output -json` on stdin and checks, against the emulator at
AWS_ENDPOINT_URL, that what the outputs name exists and is wired the way
the local stack relies on. One Python process with boto3 (which moto
brings along), because each AWS CLI call would cost a second or more.
"""

import json
import os
import sys
import time
import urllib.parse

import boto3
from botocore.exceptions import ClientError

endpoint = os.environ["AWS_ENDPOINT_URL"]
out = {k: v["value"] for k, v in json.load(sys.stdin).items()}
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def client(service):
    return boto3.client(service, endpoint_url=endpoint)


s3, sqs, lam, cloudfront = client("s3"), client("sqs"), client("lambda"), client("cloudfront")

for name in ("source_bucket", "site_bucket", "queue_url", "dlq_url", "distribution_id", "site_url"):
    check(bool(out.get(name)), f"output {name} is set")

for name in ("source_bucket", "site_bucket"):
    try:
        s3.head_bucket(Bucket=out[name])
        check(True, f"{name} {out[name]} exists")
    except ClientError as e:
        check(False, f"{name} {out[name]} exists: {e}")

cloudfront.get_distribution(Id=out["distribution_id"])
check(True, "distribution exists")

attrs = sqs.get_queue_attributes(QueueUrl=out["queue_url"], AttributeNames=["All"])["Attributes"]
redrive = json.loads(attrs.get("RedrivePolicy", "{}"))
check(redrive.get("deadLetterTargetArn", "").endswith(out["dlq_url"].rsplit("/", 1)[-1]), "queue redrives to the DLQ")
config = lam.get_function_configuration(FunctionName=out["function_names"]["render"])
check(
    (config["Runtime"], config["Handler"], config["Architectures"]) == ("provided.al2023", "bootstrap", ["arm64"]),
    "render runs bootstrap on provided.al2023, arm64",
)
env = config["Environment"]["Variables"]
check(env == out["function_environment"], "render's environment is the function_environment output")
check(env["SOURCE_BUCKET"] == out["source_bucket"] and env["SITE_BUCKET"] == out["site_bucket"], "render names both buckets")
lam.get_function(FunctionName=out["function_names"]["rebuild"])
check(True, "rebuild function exists")
mappings = lam.list_event_source_mappings(FunctionName=out["function_names"]["render"])["EventSourceMappings"]
check(not mappings, "no event source mapping (moto would drain the queue itself)")


def events():
    """Returns "<eventName> <key>" for each S3 record now on the queue."""
    got = []
    deadline = time.time() + 5
    while time.time() < deadline:
        msgs = sqs.receive_message(QueueUrl=out["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in msgs:
            for r in json.loads(m["Body"]).get("Records", []):  # not s3:TestEvent
                got.append(r["eventName"] + " " + urllib.parse.unquote_plus(r["s3"]["object"]["key"]))
            sqs.delete_message(QueueUrl=out["queue_url"], ReceiptHandle=m["ReceiptHandle"])
        if got and not msgs:
            break
    return got


# The event path the local pump reads: uploads and deletes under posts/
# reach the queue (in moto a delete only does on an unversioned bucket);
# the function's own writes under _postmill/ do not.
src = out["source_bucket"]
s3.put_object(Bucket=src, Key="_postmill/status/probe.json", Body=b"{}")
s3.put_object(Bucket=src, Key="posts/hello world.md", Body=b"# hello\n")
got = events()
check("ObjectCreated:Put posts/hello world.md" in got, f"an upload under posts/ is queued ({got})")
s3.delete_object(Bucket=src, Key="posts/hello world.md")
s3.delete_object(Bucket=src, Key="_postmill/status/probe.json")
got += events()
check("ObjectRemoved:Delete posts/hello world.md" in got, f"a delete under posts/ is queued ({got})")
check(not [e for e in got if "_postmill/" in e], "nothing under _postmill/ is queued")

sys.exit(1 if failures else 0)
