#!/usr/bin/env python3
"""An independent check of Gatehouse's CIS IAM findings, written against boto3 only.

It judges CIS AWS Foundations Benchmark v3.0/v4.0 controls 1.4 to 1.14 the way the
benchmark's command-line audit procedures describe them (get-account-summary,
list-virtual-mfa-devices, get-account-password-policy, the credential report), with no code
shared with Gatehouse. Input (JSON on stdin):

  {"endpoint": "http://127.0.0.1:PORT", "region": "us-east-1", "now": "RFC 3339",
   "root_window_days": 30, "accounts": [{"id": "...", "key": "...", "secret": "..."}]}

Output (JSON on stdout): a list of {"account", "control", "resource", "status"}.
"""
import csv
import datetime as dt
import io
import json
import sys
import time

import boto3
import botocore.exceptions


def parse(value):
    if value in ("N/A", "no_information", "not_supported", ""):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def report(iam):
    for _ in range(200):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.05)
    content = iam.get_credential_report()["Content"]
    if isinstance(content, bytes):
        content = content.decode()
    return list(csv.DictReader(io.StringIO(content)))


def judge(acct, endpoint, region, now, window):
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=region,
                       aws_access_key_id=acct["key"], aws_secret_access_key=acct["secret"])
    out = []
    aid = acct["id"]

    def add(control, resource, ok):
        out.append({"account": aid, "control": control, "resource": resource, "status": "pass" if ok else "fail"})

    summary = iam.get_account_summary()["SummaryMap"]
    add("1.4", aid, summary["AccountAccessKeysPresent"] == 0)
    add("1.5", aid, summary["AccountMFAEnabled"] == 1)
    if summary["AccountMFAEnabled"] != 1:
        add("1.6", aid, False)
    else:
        virtual = []
        for page in iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned"):
            virtual += [d for d in page["VirtualMFADevices"] if d.get("User", {}).get("Arn", "").endswith(":root")]
        add("1.6", aid, not virtual)
    try:
        policy = iam.get_account_password_policy()["PasswordPolicy"]
        add("1.8", aid, policy.get("MinimumPasswordLength", 0) >= 14)
        add("1.9", aid, policy.get("PasswordReusePrevention", 0) >= 24)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchEntity":
            raise
        add("1.8", aid, False)
        add("1.9", aid, False)

    day = dt.timedelta(days=1)
    for row in report(iam):
        arn = row["arn"]
        keys = [(n, row["access_key_%d_active" % n] == "true", parse(row["access_key_%d_last_rotated" % n]),
                 parse(row["access_key_%d_last_used_date" % n])) for n in (1, 2)]
        if row["user"] == "<root_account>":
            uses = [t for t in [parse(row["password_last_used"])] + [k[3] for k in keys] if t]
            add("1.7", aid, not uses or now - max(uses) >= window * day)
            continue
        password = row["password_enabled"] == "true"
        add("1.10", arn, not password or row["mfa_active"] == "true")
        add("1.11", arn, not (password and any(active and used is None for _, active, _, used in keys)))
        stale = False
        if password:
            used = parse(row["password_last_used"])
            ref = used if used else parse(row["password_last_changed"])
            stale = stale or now - ref >= 45 * day
        for _, active, rotated, used in keys:
            if active:
                ref = used if used else rotated
                stale = stale or now - ref >= 45 * day
        add("1.12", arn, not stale)
        add("1.13", arn, sum(1 for k in keys if k[1]) <= 1)
        add("1.14", arn, not any(active and now - rotated > 90 * day for _, active, rotated, _ in keys))
    return out


def main():
    cfg = json.load(sys.stdin)
    now = parse(cfg["now"])
    results = []
    for acct in cfg["accounts"]:
        results += judge(acct, cfg["endpoint"], cfg["region"], now, cfg["root_window_days"])
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
