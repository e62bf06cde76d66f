#!/usr/bin/env python3
"""Cuts the subsample of an AMLSim development set that `swift test` runs the network detectors
and their metamorphic tests on (issue 18): every member of a planted instance and SHARE of the
other accounts (chosen by a seeded draw), the transfers between accounts kept, over the whole
period (a cut in time would leave instances without their later transfers and the detectors
without their warm-up), in the columns Kinko reads.

    scripts/amlsim_sample.py ../shared/datasets/amlsim-dev 0.4 \
        Tests/KinkoMonitoringTests/Resources/amlsim-dev-sample

The output is deterministic (gzip without a time stamp), so rerunning it gives the same bytes.
AMLSim (IBM, Apache-2.0) made the data; see the set's README.md for how.
"""
import csv
import gzip
import io
import os
import random
import sys


def write(path, header, rows):
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(header)
    out.writerows(rows)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as zipped:
        zipped.write(text.getvalue().encode())


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    source, share, target = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    instance_share = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    os.makedirs(target, exist_ok=True)
    with gzip.open(os.path.join(source, "alert_accounts.csv.gz"), "rt") as f:
        members = [[r["alert_id"], r["alert_type"], r["acct_id"]] for r in csv.DictReader(f)]
    with gzip.open(os.path.join(source, "accounts.csv.gz"), "rt") as f:
        everyone = sorted((r["acct_id"] for r in csv.DictReader(f)), key=int)
    draw = random.Random(18)  # issue 18
    instances = sorted({m[0] for m in members}, key=int)
    chosen = {i for i in instances if draw.random() < instance_share}
    dropped = {m[2] for m in members if m[0] not in chosen}
    members = [m for m in members if m[0] in chosen]
    laundering = {m[2] for m in members}
    accounts = {a for a in everyone if a in laundering or (a not in dropped and draw.random() < share)}
    columns = ["tran_id", "orig_acct", "bene_acct", "base_amt", "tran_timestamp", "alert_id"]
    kept = []
    with gzip.open(os.path.join(source, "transactions.csv.gz"), "rt") as f:
        for row in csv.DictReader(f):
            if row["orig_acct"] in accounts and row["bene_acct"] in accounts:
                kept.append([row[c] for c in columns])
    write(os.path.join(target, "transactions.csv.gz"), columns, kept)
    write(os.path.join(target, "alert_accounts.csv.gz"), ["alert_id", "alert_type", "acct_id"], members)
    write(os.path.join(target, "accounts.csv.gz"), ["acct_id"], [[a] for a in sorted(accounts, key=int)])
    print(f"{target}: {len(kept)} transfers among {len(accounts)} of {len(everyone)} accounts, {len({m[0] for m in members})} instances")


if __name__ == "__main__":
    main()
