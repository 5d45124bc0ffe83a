#!/usr/bin/env python3
"""boto3 scenarios for the datamesh conformance suite (run by conformance/clients/boto3.ts).

Usage: python3 boto3_scenarios.py SCENARIO
Environment: DM_ENDPOINT, DM_BUCKET, DM_DIR (a scratch directory), AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION. boto3 runs with its default settings (default CRC
checksums, transfer manager defaults). Exit 0 when every check passed; otherwise one line on stderr
says what was expected and what came back. Lines "NOTE: ..." on stdout are shown with the result.
"""
import concurrent.futures
import hashlib
import os
import sys
import time
import urllib.request
import uuid

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MiB = 1024 * 1024


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise Failure(f"{what}: expected {expected!r}, got {actual!r}")


def client(**config):
    return boto3.client("s3", endpoint_url=os.environ["DM_ENDPOINT"], config=Config(**config) if config else None)


def write_random(path, size, seed):
    """Writes `size` deterministic bytes; returns their sha256 hex."""
    sha = hashlib.sha256()
    block = hashlib.sha256(seed.encode()).digest() * (MiB // 32)
    with open(path, "wb") as f:
        left, i = size, 0
        while left > 0:
            chunk = hashlib.sha256(f"{seed}:{i}".encode()).digest() + block[32:]
            chunk = chunk[: min(left, len(chunk))]
            f.write(chunk)
            sha.update(chunk)
            left -= len(chunk)
            i += 1
    return sha.hexdigest()


def sha256_file(path):
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            sha.update(chunk)
    return sha.hexdigest()


def transfer(bucket, scratch):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    src = os.path.join(scratch, "up.bin")
    size = 20 * MiB  # over the transfer manager's default 8 MiB multipart threshold
    digest = write_random(src, size, "boto3-transfer")
    t0 = time.time()
    s3.upload_file(src, bucket, "tm/up.bin")
    up = time.time() - t0
    head = s3.head_object(Bucket=bucket, Key="tm/up.bin")
    check_equal(head["ContentLength"], size, "head_object ContentLength")
    check(head["ETag"].rstrip('"').split("-")[-1].isdigit() and "-" in head["ETag"], f"upload_file of 20 MiB should go multipart: ETag {head['ETag']}")
    dst = os.path.join(scratch, "down.bin")
    t1 = time.time()
    s3.download_file(bucket, "tm/up.bin", dst)
    down = time.time() - t1
    check_equal(sha256_file(dst), digest, "sha256 of the file from download_file")
    # A small threshold on purpose: the same calls through the transfer manager's ranged GETs.
    ranged = os.path.join(scratch, "ranged.bin")
    s3.download_file(bucket, "tm/up.bin", ranged, Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
    check_equal(sha256_file(ranged), digest, "sha256 of the file from a multipart (ranged) download_file")
    print(f"NOTE: 20 MiB upload_file {size / MiB / up:.0f} MiB/s, download_file {size / MiB / down:.0f} MiB/s")


def list2500(bucket, scratch):
    s3 = client(max_pool_connections=16)
    s3.create_bucket(Bucket=bucket)
    keys = [f"many/{i // 100:02d}/key-{i:05d}.txt" for i in range(2500)]
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        for f in [pool.submit(s3.put_object, Bucket=bucket, Key=k, Body=k.encode()) for k in keys]:
            f.result()
    created = time.time() - t0
    t1 = time.time()
    seen, pages = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        pages += 1
        seen.extend(o["Key"] for o in page.get("Contents", []))
    listed = time.time() - t1
    check_equal(len(seen), 2500, "keys returned by the list_objects_v2 paginator")
    check_equal(len(set(seen)), 2500, "distinct keys returned by the paginator")
    check_equal(seen, sorted(keys), "paginated keys (all of them, in order)")
    check_equal(pages, 3, "pages of the default 1000 keys")
    small, small_pages = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/1", PaginationConfig={"PageSize": 150}):
        small_pages += 1
        small.extend(o["Key"] for o in page.get("Contents", []))
    check_equal(small, sorted(k for k in keys if k.startswith("many/1")), "keys under prefix many/1 in pages of 150")
    check_equal(small_pages, 7, "pages of 150 under many/1 (1000 keys)")
    prefixes = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/", Delimiter="/", PaginationConfig={"PageSize": 10}):
        prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    check_equal(prefixes, [f"many/{i:02d}/" for i in range(25)], "CommonPrefixes in pages of 10")
    print(f"NOTE: 2,500 PUTs in {created:.1f} s ({2500 / created:.0f}/s, 16 threads); listed in {listed:.2f} s")


def basics(bucket, scratch):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"alpha", Metadata={"k": "v"})
    got = s3.get_object(Bucket=bucket, Key="a.txt")
    check_equal(got["Body"].read(), b"alpha", "get_object body")
    check_equal(got["Metadata"], {"k": "v"}, "get_object Metadata")
    check_equal(got["ETag"], '"%s"' % hashlib.md5(b"alpha").hexdigest(), "get_object ETag")
    s3.copy_object(Bucket=bucket, Key="b.txt", CopySource={"Bucket": bucket, "Key": "a.txt"})
    check_equal(s3.get_object(Bucket=bucket, Key="b.txt")["Body"].read(), b"alpha", "copied object body")
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a.txt"}, {"Key": "b.txt"}]})
    check_equal(sorted(d["Key"] for d in res.get("Deleted", [])), ["a.txt", "b.txt"], "delete_objects Deleted")
    check_equal(res.get("Errors", []), [], "delete_objects Errors")
    try:
        s3.head_object(Bucket=bucket, Key="a.txt")
        raise Failure("head_object after delete_objects: the object is still there")
    except ClientError as e:
        check_equal(e.response["Error"]["Code"], "404", "head_object after delete_objects (error code)")


def presigned_post(bucket, scratch):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    post = s3.generate_presigned_post(bucket, "posted/${filename}", ExpiresIn=600)
    boundary = uuid.uuid4().hex
    body = b""
    for name, value in post["fields"].items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    content = b"uploaded with a presigned POST form\n"
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="form.txt"\r\nContent-Type: text/plain\r\n\r\n'.encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(post["url"], data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        raise Failure(f"POST {post['url']} with the presigned form: HTTP {e.code}: {e.read().decode(errors='replace')[:300]}")
    check(status in (200, 201, 204), f"presigned POST: HTTP {status}")
    check_equal(s3.get_object(Bucket=bucket, Key="posted/form.txt")["Body"].read(), content, "object uploaded by the presigned POST")


def versions(bucket, scratch):
    """Versioning, a delete marker, the version paginator, and a COMPLIANCE-locked version (issue 16)."""
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    check_equal(s3.get_bucket_versioning(Bucket=bucket).get("Status"), "Enabled", "get_bucket_versioning Status")
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    check_equal(len(set(ids)), 3, "distinct version ids")
    marker = s3.delete_object(Bucket=bucket, Key="k")
    check_equal(marker.get("DeleteMarker"), True, "delete_object DeleteMarker")
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1}):
        seen += [v["VersionId"] for v in page.get("Versions", [])]
    check_equal(seen, list(reversed(ids)), "list_object_versions pages, newest first")
    check_equal(s3.get_object(Bucket=bucket, Key="k", VersionId=ids[0])["Body"].read(), b"v0", "get_object VersionId")
    locked = bucket + "-lock"
    s3.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True)
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    v = s3.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)["VersionId"]
    try:
        s3.delete_object(Bucket=locked, Key="k", VersionId=v, BypassGovernanceRetention=True)
        raise Failure("delete_object of a COMPLIANCE-locked version succeeded")
    except ClientError as e:
        check_equal(e.response["Error"]["Code"], "AccessDenied", "delete_object of a locked version")
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [{"ID": "old", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]},
    )
    check_equal([r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]], ["old"], "lifecycle rule ids")


SCENARIOS = {"transfer": transfer, "list2500": list2500, "basics": basics, "presigned_post": presigned_post, "versions": versions}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: boto3_scenarios.py {{{'|'.join(SCENARIOS)}}}", file=sys.stderr)
        return 2
    try:
        SCENARIOS[sys.argv[1]](os.environ["DM_BUCKET"], os.environ["DM_DIR"])
    except Failure as e:
        print(str(e), file=sys.stderr)
        return 1
    except ClientError as e:
        err = e.response.get("Error", {})
        meta = e.response.get("ResponseMetadata", {})
        print(f"{e.operation_name}: HTTP {meta.get('HTTPStatusCode')} {err.get('Code')}: {err.get('Message')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
