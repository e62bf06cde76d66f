#!/usr/bin/env python3
"""Cut a marketsim data set down to some markets, for tests that run in `swift test`.

    scripts/market_sample.py SOURCE_DIR TARGET_DIR MARKET [MARKET ...]

Keeps every account and link (the link graph is what multi-account and insider detection read),
and the orders, trades, announcements, restricted-list rows and labels of the named markets.
A multi-account instance is kept when its market is named (its group may also have traded
elsewhere). Standard library only; output is gzip-compressed CSV like the source, written with a
fixed gzip timestamp so reruns are byte-identical.
"""
import csv
import gzip
import io
import os
import sys


def read(path):
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write(path, header, rows):
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(text.getvalue().encode())


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    source, target, markets = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    os.makedirs(target, exist_ok=True)
    for name in ["markets", "accounts", "links", "orders", "trades", "announcements", "restricted", "labels"]:
        header, rows = read(os.path.join(source, name + ".csv.gz"))
        column = "market" if name in ("markets", "orders", "trades", "announcements", "restricted", "labels") else None
        if column:
            index = header.index(column)
            rows = [r for r in rows if r[index] in markets]
        write(os.path.join(target, name + ".csv.gz"), header, rows)
        print(name, len(rows))


if __name__ == "__main__":
    main()
