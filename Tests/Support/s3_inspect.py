#!/usr/bin/env python3
"""Describe what is in an S3 bucket, with boto3 (a client independent of Lifeboat).

    python3 Tests/Support/s3_inspect.py --endpoint http://127.0.0.1:PORT --bucket B \
        --access-key-id A --secret-access-key S [--prefix P] [--region us-east-1]

prints a JSON list, sorted by key, of objects:

    {"key", "size", "sha256" (hex, of the downloaded body), "etag" (without quotes),
     "metadata" (x-amz-meta-* as boto3 gives them: lowercase names, prefix removed),
     "content_type", "checksum_sha256" (only when the object has one; base64 as the
     server returns it, possibly "...-N" for a composite multipart checksum),
     "checksum_type" (when the server says), "last_modified" (ISO 8601),
     "version_id" (when the bucket is versioned)}

Listing never sends a prefix or start-after to the server (moto's signature check
mishandles query values holding "/"): it lists the whole bucket with
continuation tokens and filters by prefix locally. Exit status 0 on success, 1 on
any S3 error (message on stderr, never the secret).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_fixture  # noqa: E402  (for s3_client and the environment scrub)


def list_keys(client: Any, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    """All objects whose key starts with `prefix`, listed without server-side prefix."""
    out: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(100_000):  # bounded; 1000 keys per page
        kw: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 1000}
        if token:
            kw["ContinuationToken"] = token
        page = client.list_objects_v2(**kw)
        for obj in page.get("Contents", []):
            if obj["Key"].startswith(prefix):
                out.append(obj)
        if not page.get("IsTruncated"):
            break
        token = page.get("NextContinuationToken")
        if not token:
            break
    out.sort(key=lambda o: o["Key"])
    return out


def describe_object(client: Any, bucket: str, key: str) -> dict[str, Any]:
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    # Body without response-checksum validation: we hash it ourselves and report.
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    h = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: body.read(1 << 20), b""):
        h.update(chunk)
        size += len(chunk)
    body.close()
    info: dict[str, Any] = {
        "key": key,
        "size": size,
        "sha256": h.hexdigest(),
        "etag": head.get("ETag", "").strip('"'),
        "metadata": dict(head.get("Metadata", {})),
        "content_type": head.get("ContentType"),
        "content_length": head.get("ContentLength"),
        "last_modified": head["LastModified"].isoformat() if head.get("LastModified") else None,
    }
    if head.get("ChecksumSHA256"):
        info["checksum_sha256"] = head["ChecksumSHA256"]
    if head.get("ChecksumType"):
        info["checksum_type"] = head["ChecksumType"]
    if head.get("VersionId") and head.get("VersionId") != "null":
        info["version_id"] = head["VersionId"]
    return info


def inspect_bucket(client: Any, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    return [describe_object(client, bucket, o["Key"]) for o in list_keys(client, bucket, prefix)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="List and describe S3 objects as JSON (boto3).")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--access-key-id", required=True)
    ap.add_argument("--secret-access-key", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--region", default=moto_fixture.REGION)
    args = ap.parse_args(argv)

    from botocore.exceptions import BotoCoreError, ClientError

    client = moto_fixture.s3_client(args.endpoint, args.access_key_id, args.secret_access_key, args.region)
    try:
        result = inspect_bucket(client, args.bucket, args.prefix)
    except ClientError as e:
        err = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        print(f"s3_inspect: {err.get('Code')} (HTTP {status}): {err.get('Message')}", file=sys.stderr)
        return 1
    except BotoCoreError as e:
        print(f"s3_inspect: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, ensure_ascii=True, sort_keys=True)
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
