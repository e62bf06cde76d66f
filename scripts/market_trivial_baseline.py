#!/usr/bin/env python3
# A trivial baseline per market-abuse family, to compare Kinko's detectors against (docs/SURVEILLANCE.md).
# Usage: scripts/market_trivial_baseline.py DATA_DIR OUT.ndjson, then the data set's score.py.
"""Trivial first-day surveillance baselines. Usage: trivial.py DATA_DIR OUT.ndjson
Never reads labels.csv.gz."""
import csv, gzip, json, os, sys, statistics
from collections import defaultdict

DAY = 86400000; HOUR = 3600000
PERIOD_START = 1772409600000  # 2026-03-02 00:00 UTC
PERIOD_END = PERIOD_START + 7 * DAY

def rows(d, name):
    with gzip.open(os.path.join(d, name), 'rt', newline='') as f:
        yield from csv.DictReader(f)

def main(d, out):
    alerts = []
    kind = {r['account_id']: r['kind'] for r in rows(d, 'accounts.csv.gz')}
    trades = list(rows(d, 'trades.csv.gz'))
    for t in trades: t['time'] = int(t['time'])

    # wash_trade: self-trades per (market, account)
    w = {}
    for t in trades:
        if t['buy_account_id'] == t['sell_account_id']:
            k = (t['market'], t['buy_account_id'])
            lo, hi = w.get(k, (t['time'], t['time']))
            w[k] = (min(lo, t['time']), max(hi, t['time']))
    for (m, a), (lo, hi) in sorted(w.items()):
        alerts.append(dict(typology='wash_trade', market=m, accounts=[a], start=lo, end=hi))

    # spoofing: per (account, market, UTC day), >=20 orders, cancel ratio >= 0.9, non-MM
    # orders attributed to submission day; window = first..last event of the account that day in market
    sub_day = {}
    n_new = defaultdict(int); n_cxl = defaultdict(int); win = {}
    for r in rows(d, 'orders.csv.gz'):
        a = r['account_id']
        if kind.get(a) == 'market_maker': continue
        t = int(r['time']); oid = r['order_id']; ev = r['event']
        if ev == 'new':
            k = (a, r['market'], t // DAY); sub_day[oid] = k; n_new[k] += 1
        elif ev == 'cancel' and oid in sub_day:
            n_cxl[sub_day[oid]] += 1
        kw = (a, r['market'], t // DAY)
        lo, hi = win.get(kw, (t, t)); win[kw] = (min(lo, t), max(hi, t))
    for k in sorted(n_new):
        if n_new[k] >= 20 and n_cxl[k] / n_new[k] >= 0.9:
            lo, hi = win[k]
            alerts.append(dict(typology='spoofing', market=k[1], accounts=[k[0]], start=lo, end=hi))

    # insider_trading: restricted account traded that market within [from, to]
    by_acct_mkt = defaultdict(list)
    for t in trades:
        by_acct_mkt[(t['buy_account_id'], t['market'])].append(t['time'])
        if t['sell_account_id'] != t['buy_account_id']:
            by_acct_mkt[(t['sell_account_id'], t['market'])].append(t['time'])
    for r in rows(d, 'restricted.csv.gz'):
        f, to = int(r['from']), int(r['to'])
        ts = [x for x in by_acct_mkt.get((r['account_id'], r['market']), []) if f <= x <= to]
        if ts:
            alerts.append(dict(typology='insider_trading', market=r['market'], accounts=[r['account_id']],
                               start=min(ts), end=max(ts)))

    # pump_and_dump: distinct buyers per (market, hour) >= 3x market median hourly count
    # (median over all hours of the period, empty hours count as 0; at least 1 buyer required)
    buyers = defaultdict(lambda: defaultdict(list))
    for t in trades:
        h = t['time'] // HOUR
        lst = buyers[t['market']][h]
        if t['buy_account_id'] not in lst: lst.append(t['buy_account_id'])
    nh = (PERIOD_END - PERIOD_START) // HOUR
    for m in sorted(buyers):
        counts = [len(buyers[m].get(PERIOD_START // HOUR + i, [])) for i in range(nh)]
        thr = max(3 * statistics.median(counts), 1)
        for h in sorted(buyers[m]):
            b = buyers[m][h]
            if len(b) >= thr:
                alerts.append(dict(typology='pump_and_dump', market=m, accounts=b[:100],
                                   start=h * HOUR, end=(h + 1) * HOUR - 1))

    # multi_account: connected components (3..100) over device links
    parent = {}
    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]; x = parent[x]
        return x
    for r in rows(d, 'links.csv.gz'):
        if r['link_kind'] == 'device':
            a, b = find(r['account_a']), find(r['account_b'])
            if a != b: parent[a] = b
    comps = defaultdict(list)
    for x in list(parent): comps[find(x)].append(x)
    for c in sorted(comps.values(), key=lambda c: sorted(c)):
        if 3 <= len(c) <= 100:
            alerts.append(dict(typology='multi_account', market='BTC/JPY', accounts=sorted(c),
                               start=PERIOD_START, end=PERIOD_END))

    with open(out, 'w') as f:
        for a in alerts: f.write(json.dumps(a) + '\n')

if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
