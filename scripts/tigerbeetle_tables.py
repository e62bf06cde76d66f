#!/usr/bin/env python3
"""Extract TigerBeetle's state-machine test tables and decode them to JSON.

TigerBeetle (https://github.com/tigerbeetle/tigerbeetle, Apache-2.0) tests its
state machine with small text tables passed to `check(...)` in
src/state_machine_tests.zig. Each table row is parsed by
src/testing/table.zig (`parse`) into the `TestAction` union declared in
state_machine_tests.zig. This script

  extract  copies every `check(...)` table verbatim into
           Tests/KinkoLedgerTests/Resources/TigerBeetle/state_machine_tests.txt
  json     decodes that text into state_machine_tests.json, reproducing
           table.zig's column rules exactly, and prints a summary.

Python 3 standard library only. Output is deterministic.

Decoding rules (src/testing/table.zig, `parse_data`):
  * rows are split on '\\n', columns on ' ' (runs of spaces are one separator);
    blank rows are skipped;
  * the first column names the TestAction variant (the action kind);
  * struct fields are read in declaration order; a field that has a default
    value takes it when its column is `_`; a field without a default must be
    given (so `_` there is an error);
  * an optional field whose default is null is null for `_`;
  * integers: if the token starts with an ASCII letter that one letter is
    ignored (`A1`, `T1`, `U2`, `L3`, `C4`, `P1`, `D1` -> 1, 1, 2, 3, 4, 1, 1);
    for unsigned types `-N` means maxInt(type) - N (so `-0` is maxInt); the
    digits are strict base 10 (no leading zeros, no `_` separators);
  * enum columns must spell the enum tag exactly (`LNK`, `D<C`, `created`...);
  * bools are 0/false/F or 1/true/T;
  * after a row is fully parsed the only thing allowed to follow is a token
    that is exactly `//` (a trailing comment).

In the JSON every integer whose Zig type is 64 or 128 bits wide (u128, u64,
i64) is a decimal string; narrower integers (u32, u16, u10, u5, u1) are JSON
numbers.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys

MIRROR_DEFAULT = "/work/.mirror/tigerbeetle+tigerbeetle/repo"
ZIG_PATH = "src/state_machine_tests.zig"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RES_DIR = os.path.join(ROOT, "Tests", "KinkoLedgerTests", "Resources", "TigerBeetle")
TXT_DEFAULT = os.path.join(RES_DIR, "state_machine_tests.txt")
JSON_DEFAULT = os.path.join(RES_DIR, "state_machine_tests.json")

HEADER_RE = re.compile(r'^## test "(.*)"$')

# --------------------------------------------------------------------------
# extract
# --------------------------------------------------------------------------


def read_zig(args):
    """Return (text, commit) of state_machine_tests.zig."""
    if args.zig:
        with open(args.zig, encoding="utf-8") as f:
            return f.read(), (args.commit or "unknown")
    rev = args.rev
    commit = subprocess.run(
        ["git", "-C", args.mirror, "rev-parse", rev + "^{commit}"],
        check=True, capture_output=True, text=True).stdout.strip()
    text = subprocess.run(
        ["git", "-C", args.mirror, "show", commit + ":" + ZIG_PATH],
        check=True, capture_output=True).stdout.decode("utf-8")
    return text, (args.commit or commit)


def scan_zig(text):
    """Find every test block and every `check(...)` table inside it.

    Returns (tables, tests) where tables is a list of dicts
    {name, check, checks, zig_line, lines} and tests is a list of
    {name, zig_line, checks}.
    """
    src = text.split("\n")
    tests = []
    tables = []
    current = None  # current test dict
    i = 0
    while i < len(src):
        line = src[i]
        m = re.match(r'^test "(.*)" \{$', line)
        if m:
            assert current is None, "nested test at line %d" % (i + 1)
            current = {"name": m.group(1), "zig_line": i + 1, "checks": 0}
            tests.append(current)
            i += 1
            continue
        if current is not None and line == "}":
            current = None
            i += 1
            continue
        if "check(" in line and current is not None and not line.lstrip().startswith("//"):
            assert line.strip() == "try check(", \
                "unexpected check call form at line %d: %r" % (i + 1, line)
            current["checks"] += 1
            table = {"name": current["name"], "check": current["checks"],
                     "zig_line": i + 1, "lines": []}
            i += 1
            while True:
                assert i < len(src), "unterminated check( table"
                raw = src[i]
                s = raw.strip()
                if s == ");":
                    break
                if s.startswith("\\\\"):
                    content = s[2:]
                    # The DSL lines are written `\\ account ...`: drop the one
                    # separating space; everything after it is kept verbatim.
                    if content.startswith(" "):
                        content = content[1:]
                    table["lines"].append(content)
                elif s.startswith("//"):
                    # A Zig comment between the string lines (not part of the
                    # string TigerBeetle parses); kept for context.
                    table["lines"].append(s)
                elif s == "":
                    pass  # blank source line: not part of the string literal
                else:
                    raise AssertionError("unexpected line %d inside check(: %r" % (i + 1, raw))
                i += 1
            tables.append(table)
        i += 1
    for t in tables:
        t["checks"] = next(x["checks"] for x in tests if x["name"] == t["name"])
    return tables, tests


def render_txt(tables, commit):
    out = [
        "# TigerBeetle state-machine test tables: every check(...) table of",
        "# src/state_machine_tests.zig at commit %s" % commit,
        "# (https://github.com/tigerbeetle/tigerbeetle, Apache-2.0; see NOTICE.md and LICENSE).",
        "# Extracted verbatim by scripts/tigerbeetle_tables.py: only the leading `\\\\ `",
        "# and the indentation were removed. Lines starting with // are Zig comments that",
        "# sit between the string lines inside the check(...) call; TigerBeetle never parses them.",
        "# A test that calls check() several times has one `## test` header per call.",
    ]
    for t in tables:
        out.append("")
        out.append('## test "%s"' % t["name"])
        out.extend(t["lines"])
    return "\n".join(out) + "\n"


def cmd_extract(args):
    text, commit = read_zig(args)
    tables, tests = scan_zig(text)
    rendered = render_txt(tables, commit)
    out = args.output
    if args.check:
        with open(out, encoding="utf-8") as f:
            existing = f.read()
        if existing != rendered:
            print("DIFFERS: %s is not what extract would write" % out)
            return 1
        print("OK: %s matches a fresh extraction (%d tables)" % (out, len(tables)))
        return 0
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(rendered)
    skipped = [t for t in tests if t["checks"] == 0]
    print("commit %s" % commit)
    print("tests: %d, with check(): %d, check() tables: %d"
          % (len(tests), len(tests) - len(skipped), len(tables)))
    for t in skipped:
        print('  left out (no check table): test "%s" (zig line %d)' % (t["name"], t["zig_line"]))
    print("wrote %s" % out)
    return 0


# --------------------------------------------------------------------------
# Schema: a transcription of the Zig types in src/state_machine_tests.zig
# (TestAction and the structs it uses) and src/tigerbeetle.zig (enums).
# --------------------------------------------------------------------------

NO_DEFAULT = object()


class Int:
    def __init__(self, bits, signed=False):
        self.bits, self.signed = bits, signed

    @property
    def max(self):
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1


class Enum:
    def __init__(self, *names):
        self.names = names


class Optional:
    def __init__(self, child):
        self.child = child


class Bool:
    pass


class Struct:
    def __init__(self, *fields):
        # fields: (name, type, default) with default NO_DEFAULT when absent
        self.fields = [(f[0], f[1], f[2] if len(f) > 2 else NO_DEFAULT) for f in fields]


class Union:
    def __init__(self, *variants):
        self.variants = variants  # (name, type)


u1, u5, u10, u16, u32, u64, u128 = (Int(b) for b in (1, 5, 10, 16, 32, 64, 128))
i64 = Int(64, signed=True)

# src/tigerbeetle.zig, CreateAccountStatus: declaration order is the order of
# descending precedence; values are the wire numbers.
CREATE_ACCOUNT_STATUS = collections.OrderedDict([
    ("deprecated_ok", 0), ("created", 4294967295),
    ("linked_event_failed", 1), ("linked_event_chain_open", 2),
    ("imported_event_expected", 22), ("imported_event_not_expected", 23),
    ("timestamp_must_be_zero", 3),
    ("imported_event_timestamp_out_of_range", 24),
    ("imported_event_timestamp_must_not_advance", 25),
    ("reserved_field", 4), ("reserved_flag", 5),
    ("id_must_not_be_zero", 6), ("id_must_not_be_int_max", 7),
    ("exists_with_different_flags", 15), ("exists_with_different_user_data_128", 16),
    ("exists_with_different_user_data_64", 17), ("exists_with_different_user_data_32", 18),
    ("exists_with_different_ledger", 19), ("exists_with_different_code", 20),
    ("exists", 21),
    ("flags_are_mutually_exclusive", 8),
    ("debits_pending_must_be_zero", 9), ("debits_posted_must_be_zero", 10),
    ("credits_pending_must_be_zero", 11), ("credits_posted_must_be_zero", 12),
    ("ledger_must_not_be_zero", 13), ("code_must_not_be_zero", 14),
    ("imported_event_timestamp_must_not_regress", 26),
])

# src/tigerbeetle.zig, CreateTransferStatus (same conventions).
CREATE_TRANSFER_STATUS = collections.OrderedDict([
    ("deprecated_ok", 0), ("created", 4294967295),
    ("linked_event_failed", 1), ("linked_event_chain_open", 2),
    ("imported_event_expected", 56), ("imported_event_not_expected", 57),
    ("timestamp_must_be_zero", 3),
    ("imported_event_timestamp_out_of_range", 58),
    ("imported_event_timestamp_must_not_advance", 59),
    ("reserved_flag", 4),
    ("id_must_not_be_zero", 5), ("id_must_not_be_int_max", 6),
    ("exists_with_different_flags", 36), ("exists_with_different_pending_id", 40),
    ("exists_with_different_timeout", 44),
    ("exists_with_different_debit_account_id", 37),
    ("exists_with_different_credit_account_id", 38),
    ("exists_with_different_amount", 39),
    ("exists_with_different_user_data_128", 41),
    ("exists_with_different_user_data_64", 42),
    ("exists_with_different_user_data_32", 43),
    ("exists_with_different_ledger", 67), ("exists_with_different_code", 45),
    ("exists", 46),
    ("id_already_failed", 68),
    ("flags_are_mutually_exclusive", 7),
    ("debit_account_id_must_not_be_zero", 8), ("debit_account_id_must_not_be_int_max", 9),
    ("credit_account_id_must_not_be_zero", 10), ("credit_account_id_must_not_be_int_max", 11),
    ("accounts_must_be_different", 12),
    ("pending_id_must_be_zero", 13), ("pending_id_must_not_be_zero", 14),
    ("pending_id_must_not_be_int_max", 15), ("pending_id_must_be_different", 16),
    ("timeout_reserved_for_pending_transfer", 17),
    ("closing_transfer_must_be_pending", 64),
    ("ledger_must_not_be_zero", 19), ("code_must_not_be_zero", 20),
    ("debit_account_not_found", 21), ("credit_account_not_found", 22),
    ("accounts_must_have_the_same_ledger", 23),
    ("transfer_must_have_the_same_ledger_as_accounts", 24),
    ("pending_transfer_not_found", 25), ("pending_transfer_not_pending", 26),
    ("pending_transfer_has_different_debit_account_id", 27),
    ("pending_transfer_has_different_credit_account_id", 28),
    ("pending_transfer_has_different_ledger", 29),
    ("pending_transfer_has_different_code", 30),
    ("exceeds_pending_transfer_amount", 31),
    ("pending_transfer_has_different_amount", 32),
    ("pending_transfer_already_posted", 33), ("pending_transfer_already_voided", 34),
    ("pending_transfer_expired", 35),
    ("imported_event_timestamp_must_not_regress", 60),
    ("imported_event_timestamp_must_postdate_debit_account", 61),
    ("imported_event_timestamp_must_postdate_credit_account", 62),
    ("imported_event_timeout_must_be_zero", 63),
    ("debit_account_already_closed", 65), ("credit_account_already_closed", 66),
    ("overflows_debits_pending", 47), ("overflows_credits_pending", 48),
    ("overflows_debits_posted", 49), ("overflows_credits_posted", 50),
    ("overflows_debits", 51), ("overflows_credits", 52), ("overflows_timeout", 53),
    ("exceeds_credits", 54), ("exceeds_debits", 55),
    ("deprecated_18", 18),
])

OPERATIONS = ("create_accounts", "create_transfers", "lookup_accounts", "lookup_transfers",
              "get_account_transfers", "get_account_balances", "query_accounts",
              "query_transfers", "get_change_events")

BALANCES = (("debits_pending", u128), ("debits_posted", u128),
            ("credits_pending", u128), ("credits_posted", u128))

TestCreateAccount = Struct(
    ("id", u128),
    ("debits_pending", u128, 0), ("debits_posted", u128, 0),
    ("credits_pending", u128, 0), ("credits_posted", u128, 0),
    ("user_data_128", u128, 0), ("user_data_64", u64, 0), ("user_data_32", u32, 0),
    ("reserved", u1, 0),
    ("ledger", u32), ("code", u16),
    ("flags_linked", Optional(Enum("LNK")), None),
    ("flags_debits_must_not_exceed_credits", Optional(Enum("D<C")), None),
    ("flags_credits_must_not_exceed_debits", Optional(Enum("C<D")), None),
    ("flags_history", Optional(Enum("HIST")), None),
    ("flags_imported", Optional(Enum("IMP")), None),
    ("flags_closed", Optional(Enum("CLSD")), None),
    ("flags_padding", u10, 0),
    ("timestamp", u64, 0),
    ("status", Enum(*CREATE_ACCOUNT_STATUS)),
)

TestCreateTransfer = Struct(
    ("id", u128), ("debit_account_id", u128), ("credit_account_id", u128),
    ("amount", u128, 0), ("pending_id", u128, 0),
    ("user_data_128", u128, 0), ("user_data_64", u64, 0), ("user_data_32", u32, 0),
    ("timeout", u32, 0),
    ("ledger", u32), ("code", u16),
    ("flags_linked", Optional(Enum("LNK")), None),
    ("flags_pending", Optional(Enum("PEN")), None),
    ("flags_post_pending_transfer", Optional(Enum("POS")), None),
    ("flags_void_pending_transfer", Optional(Enum("VOI")), None),
    ("flags_balancing_debit", Optional(Enum("BDR")), None),
    ("flags_balancing_credit", Optional(Enum("BCR")), None),
    ("flags_imported", Optional(Enum("IMP")), None),
    ("flags_closing_debit", Optional(Enum("CDR")), None),
    ("flags_closing_credit", Optional(Enum("CCR")), None),
    ("flags_padding", u5, 0),
    ("timestamp", u64, 0),
    ("status", Enum(*CREATE_TRANSFER_STATUS)),
)

AccountData = Struct(*(BALANCES + (("flag_closed", Optional(Enum("CLSD")), None),)))

TestAccountFilter = Struct(
    ("account_id", u128),
    ("user_data_128", Optional(u128), None), ("user_data_64", Optional(u64), None),
    ("user_data_32", Optional(u32), None), ("code", Optional(u16), None),
    ("timestamp_min_transfer_id", Optional(u128), None),
    ("timestamp_max_transfer_id", Optional(u128), None),
    ("limit", u32),
    ("flags_debits", Optional(Enum("DR")), None),
    ("flags_credits", Optional(Enum("CR")), None),
    ("flags_reversed", Optional(Enum("REV")), None),
)

TestQueryFilter = Struct(
    ("user_data_128", u128), ("user_data_64", u64), ("user_data_32", u32),
    ("ledger", u32), ("code", u16),
    ("timestamp_min_transfer_id", Optional(u128), None),
    ("timestamp_max_transfer_id", Optional(u128), None),
    ("limit", u32),
    ("flags_reversed", Optional(Enum("REV")), None),
)

ChangeBalance = Struct(("account_id", u128), *BALANCES,
                       ("closed", Optional(Enum("CLSD")), None))

TestAction = Union(
    ("setup", Struct(("account", u128), *BALANCES)),
    ("tick", Struct(("value", i64), ("unit", Enum("nanoseconds", "seconds")))),
    ("commit", Enum(*OPERATIONS)),
    ("account", TestCreateAccount),
    ("transfer", TestCreateTransfer),
    ("lookup_account", Struct(("id", u128), ("data", Optional(AccountData), None))),
    ("lookup_transfer", Struct(("id", u128), ("data", Union(
        ("exists", Bool()), ("amount", u128), ("timestamp", u64))))),
    ("get_account_balances", TestAccountFilter),
    ("get_account_balances_result", Struct(("transfer_id", u128), *BALANCES)),
    ("get_account_transfers", TestAccountFilter),
    ("get_account_transfers_result", u128),
    ("query_accounts", TestQueryFilter),
    ("query_accounts_result", Struct(("id", u128), ("data", Optional(AccountData), None))),
    ("query_transfers", TestQueryFilter),
    ("query_transfers_result", u128),
    ("get_change_events", Struct(
        ("timestamp_min_transfer_id", Optional(u128), None),
        ("timestamp_max_transfer_id", Optional(u128), None),
        ("limit", u32))),
    ("get_change_events_result", Struct(
        ("event_type", Optional(Enum("PEN", "POS", "VOI", "EXP")), None),
        ("timestamp_transfer", Optional(u128), None),
        ("amount", u128),
        ("transfer_pending_id", Optional(u128), None),
        ("dr_account", ChangeBalance),
        ("cr_account", ChangeBalance))),
)


class ParseError(Exception):
    pass


class Tokens:
    """std.mem.tokenizeScalar(u8, row, ' ')."""

    def __init__(self, row):
        self.items = [t for t in row.split(" ") if t != ""]
        self.index = 0

    def next(self):
        if self.index >= len(self.items):
            raise ParseError("row ended early")
        t = self.items[self.index]
        self.index += 1
        return t

    def peek(self):
        return self.items[self.index] if self.index < len(self.items) else None


def parse_int(typ, token):
    """table.zig `.int` branch + stdx.parse_int(T, text, .{}) (base 10, strict)."""
    offset = 1 if (token[:1].isascii() and token[:1].isalpha()) else 0
    body = token[offset:]

    def strict(text, signed):
        if len(text) > 1 and text[0] == "0":
            raise ParseError("leading zero in %r" % token)
        digits = text
        if signed and text[:1] in "+-":
            digits = text[1:]
        if not digits or not all(c in "0123456789" for c in digits):
            raise ParseError("not a base-10 integer: %r" % token)
        return int(text, 10)

    if not typ.signed and body[:1] == "-":
        n = strict(body[1:], False)
        if n > typ.max:
            raise ParseError("overflow: %r" % token)
        return typ.max - n
    v = strict(body, typ.signed)
    lo = -(1 << (typ.bits - 1)) if typ.signed else 0
    if not lo <= v <= typ.max:
        raise ParseError("overflow: %r" % token)
    return v


def parse_data(typ, tokens):
    """Port of table.zig `parse_data`."""
    if isinstance(typ, Optional):
        return parse_data(typ.child, tokens)
    if isinstance(typ, Enum):
        t = tokens.next()
        if t not in typ.names:
            raise ParseError("unknown enum value %r (expected one of %s)" % (t, "/".join(typ.names)))
        return t
    if isinstance(typ, Bool):
        t = tokens.next()
        if t in ("0", "false", "F"):
            return False
        if t in ("1", "true", "T"):
            return True
        raise ParseError("unknown boolean %r" % t)
    if isinstance(typ, Int):
        return parse_int(typ, tokens.next())
    if isinstance(typ, Struct):
        data = collections.OrderedDict()
        for name, ftype, default in typ.fields:
            if default is not NO_DEFAULT:
                # `eat(tokens, "_")`: tokens.next().? must exist.
                if tokens.peek() is None:
                    raise ParseError("row ended early (field %s)" % name)
                if tokens.peek() == "_":
                    tokens.next()
                    data[name] = default
                    continue
            data[name] = parse_data(ftype, tokens)
        return data
    if isinstance(typ, Union):
        t = tokens.next()
        for name, vtype in typ.variants:
            if name == t:
                return (name, parse_data(vtype, tokens))
        raise ParseError("unknown union variant %r" % t)
    raise TypeError(typ)


# --------------------------------------------------------------------------
# Raw parse -> JSON shape
# --------------------------------------------------------------------------


def big(v):
    """u128/u64/i64 as a decimal string (None stays None)."""
    return None if v is None else str(v)


def balances(d):
    return collections.OrderedDict((k, big(d[k])) for k, _ in BALANCES)


def account_event(a):
    return collections.OrderedDict([
        ("id", big(a["id"])),
        ("debits_pending", big(a["debits_pending"])),
        ("debits_posted", big(a["debits_posted"])),
        ("credits_pending", big(a["credits_pending"])),
        ("credits_posted", big(a["credits_posted"])),
        ("user_data_128", big(a["user_data_128"])),
        ("user_data_64", big(a["user_data_64"])),
        ("user_data_32", a["user_data_32"]),
        ("reserved", a["reserved"]),
        ("ledger", a["ledger"]),
        ("code", a["code"]),
        ("flags", collections.OrderedDict([
            ("linked", a["flags_linked"] is not None),
            ("debits_must_not_exceed_credits", a["flags_debits_must_not_exceed_credits"] is not None),
            ("credits_must_not_exceed_debits", a["flags_credits_must_not_exceed_debits"] is not None),
            ("history", a["flags_history"] is not None),
            ("imported", a["flags_imported"] is not None),
            ("closed", a["flags_closed"] is not None),
            ("padding", a["flags_padding"]),
        ])),
        ("timestamp", big(a["timestamp"])),
    ])


def transfer_event(t):
    return collections.OrderedDict([
        ("id", big(t["id"])),
        ("debit_account_id", big(t["debit_account_id"])),
        ("credit_account_id", big(t["credit_account_id"])),
        ("amount", big(t["amount"])),
        ("pending_id", big(t["pending_id"])),
        ("user_data_128", big(t["user_data_128"])),
        ("user_data_64", big(t["user_data_64"])),
        ("user_data_32", t["user_data_32"]),
        ("timeout", t["timeout"]),
        ("ledger", t["ledger"]),
        ("code", t["code"]),
        ("flags", collections.OrderedDict([
            ("linked", t["flags_linked"] is not None),
            ("pending", t["flags_pending"] is not None),
            ("post_pending_transfer", t["flags_post_pending_transfer"] is not None),
            ("void_pending_transfer", t["flags_void_pending_transfer"] is not None),
            ("balancing_debit", t["flags_balancing_debit"] is not None),
            ("balancing_credit", t["flags_balancing_credit"] is not None),
            ("closing_debit", t["flags_closing_debit"] is not None),
            ("closing_credit", t["flags_closing_credit"] is not None),
            ("imported", t["flags_imported"] is not None),
            ("padding", t["flags_padding"]),
        ])),
        ("timestamp", big(t["timestamp"])),
    ])


def account_filter(f):
    return collections.OrderedDict([
        ("account_id", big(f["account_id"])),
        ("user_data_128", big(f["user_data_128"])),
        ("user_data_64", big(f["user_data_64"])),
        ("user_data_32", f["user_data_32"]),
        ("code", f["code"]),
        ("timestamp_min_transfer_id", big(f["timestamp_min_transfer_id"])),
        ("timestamp_max_transfer_id", big(f["timestamp_max_transfer_id"])),
        ("limit", f["limit"]),
        ("flags", collections.OrderedDict([
            ("debits", f["flags_debits"] is not None),
            ("credits", f["flags_credits"] is not None),
            ("reversed", f["flags_reversed"] is not None),
        ])),
    ])


def query_filter(f, refers_to):
    return collections.OrderedDict([
        ("user_data_128", big(f["user_data_128"])),
        ("user_data_64", big(f["user_data_64"])),
        ("user_data_32", f["user_data_32"]),
        ("ledger", f["ledger"]),
        ("code", f["code"]),
        ("timestamp_min_transfer_id", big(f["timestamp_min_transfer_id"])),
        ("timestamp_max_transfer_id", big(f["timestamp_max_transfer_id"])),
        ("timestamp_ids_refer_to", refers_to),
        ("limit", f["limit"]),
        ("flags", collections.OrderedDict([("reversed", f["flags_reversed"] is not None)])),
    ])


def account_data(d):
    if d is None:
        return None
    out = balances(d)
    out["closed"] = d["flag_closed"] is not None
    return out


CHANGE_EVENT_TYPE = {None: "single_phase", "PEN": "two_phase_pending", "POS": "two_phase_posted",
                     "VOI": "two_phase_voided", "EXP": "two_phase_expired"}

# Which batch an action belongs to (TestContext.Operation), per check_version.
BATCHED = {
    "account": "create_accounts", "transfer": "create_transfers",
    "lookup_account": "lookup_accounts", "lookup_transfer": "lookup_transfers",
    "get_account_balances": "get_account_balances",
    "get_account_transfers": "get_account_transfers",
    "query_accounts": "query_accounts", "query_transfers": "query_transfers",
    "get_change_events": "get_change_events",
}
RESULT_OF = {
    "get_account_balances_result": "get_account_balances",
    "get_account_transfers_result": "get_account_transfers",
    "query_accounts_result": "query_accounts",
    "query_transfers_result": "query_transfers",
    "get_change_events_result": "get_change_events",
}


def to_json(kind, v):
    out = collections.OrderedDict()
    if kind == "setup":
        out["account_id"] = big(v["account"])
        out.update(balances(v))
    elif kind == "tick":
        out["value"] = big(v["value"])
        out["unit"] = v["unit"]
    elif kind == "commit":
        out["operation"] = v
    elif kind == "account":
        out["event"] = account_event(v)
        out["status"] = v["status"]
        out["status_code"] = CREATE_ACCOUNT_STATUS[v["status"]]
    elif kind == "transfer":
        out["event"] = transfer_event(v)
        out["status"] = v["status"]
        out["status_code"] = CREATE_TRANSFER_STATUS[v["status"]]
    elif kind == "lookup_account":
        out["id"] = big(v["id"])
        out["found"] = v["data"] is not None
        out["expect"] = account_data(v["data"])
    elif kind == "lookup_transfer":
        out["id"] = big(v["id"])
        variant, value = v["data"]
        if variant == "exists":
            out["found"] = value
            out["expect"] = collections.OrderedDict([("exists", value)])
        else:
            out["found"] = True
            out["expect"] = collections.OrderedDict([(variant, big(value))])
    elif kind in ("get_account_balances", "get_account_transfers"):
        out["filter"] = account_filter(v)
    elif kind == "get_account_balances_result":
        out["transfer_id"] = big(v["transfer_id"])
        out.update(balances(v))
    elif kind in ("get_account_transfers_result", "query_transfers_result"):
        out["transfer_id"] = big(v)
    elif kind == "query_accounts":
        out["filter"] = query_filter(v, "accounts")
    elif kind == "query_transfers":
        out["filter"] = query_filter(v, "transfers")
    elif kind == "query_accounts_result":
        out["id"] = big(v["id"])
        out["expect"] = account_data(v["data"])
    elif kind == "get_change_events":
        out["filter"] = collections.OrderedDict([
            ("timestamp_min_transfer_id", big(v["timestamp_min_transfer_id"])),
            ("timestamp_max_transfer_id", big(v["timestamp_max_transfer_id"])),
            ("limit", v["limit"]),
        ])
    elif kind == "get_change_events_result":
        out["event_type"] = v["event_type"]
        out["type"] = CHANGE_EVENT_TYPE[v["event_type"]]
        out["timestamp_transfer"] = big(v["timestamp_transfer"])
        out["amount"] = big(v["amount"])
        out["transfer_pending_id"] = big(v["transfer_pending_id"])
        for side in ("dr_account", "cr_account"):
            b = v[side]
            d = collections.OrderedDict([("account_id", big(b["account_id"]))])
            d.update(balances(b))
            d["closed"] = b["closed"] is not None
            out[side] = d
    else:
        raise AssertionError(kind)
    return out


def parse_txt(text):
    """Split the .txt into tables: [(name, [(line_no, line), ...])]."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tables = []
    for no, line in enumerate(lines, 1):
        m = HEADER_RE.match(line)
        if m:
            if tables:
                body = tables[-1][1]
                assert body and body[-1][1] == "", "tables must be separated by a blank line"
                body.pop()
            tables.append((m.group(1), []))
            continue
        if not tables:
            assert line == "" or line.startswith("#"), "text before the first table: %r" % line
            continue
        tables[-1][1].append((no, line))
    return tables


def decode_table(name, body):
    """Decode one table; validate it the way check_version's asserts would."""
    actions = []
    operation = None
    batch = 0
    index = 0
    comments = 0
    for no, line in body:
        if line.strip() == "":
            continue  # table.zig: blank rows are ignored
        if line.startswith("//"):
            comments += 1
            continue  # Zig comment line kept for context; not a row
        tokens = Tokens(line)
        try:
            kind, value = parse_data(TestAction, tokens)
        except ParseError as e:
            raise SystemExit('table "%s", line %d: %s\n  %s' % (name, no, e, line))
        trailing = None
        rest = tokens.peek()
        if rest is not None:
            if rest != "//":
                raise SystemExit('table "%s", line %d: unexpected column %r after a full row'
                                 % (name, no, rest))
            m = re.search(r"(?:^| )//(?: |$)", line)
            trailing = line[m.end():].strip()
        action = collections.OrderedDict([("line", no), ("kind", kind)])
        # Structural rules from check_version.
        if kind == "setup":
            assert operation is None, "setup inside a batch (line %d)" % no
        elif kind in BATCHED:
            assert operation in (None, BATCHED[kind]), "mixed batch at line %d" % no
            if operation is None:
                index = 0
            operation = BATCHED[kind]
            action["batch"] = batch
            action["index"] = index
            index += 1
        elif kind in RESULT_OF:
            assert operation == RESULT_OF[kind], "%s outside its query (line %d)" % (kind, no)
            action["batch"] = batch
        elif kind == "commit":
            assert operation in (None, value), "commit %s closes a %s batch (line %d)" % (
                value, operation, no)
            action["batch"] = batch
            action["events"] = index if operation is not None else 0
            operation = None
            index = 0
            batch += 1
        action.update(to_json(kind, value))
        if trailing is not None:
            action["comment"] = trailing
        actions.append(action)
    assert operation is None, 'table "%s" ends with an uncommitted batch' % name
    return actions, comments


def model_check(name, actions):
    """Replay check_version's in-memory model enough to prove every reference
    it dereferences with `.?` exists (accounts.get, transfers.get,
    linked_events_failed.get)."""
    accounts, transfers, linked_failed = set(), set(), set()
    for a in actions:
        k = a["kind"]
        if k in ("account", "transfer"):
            ev, st = a["event"], a["status"]
            pool = accounts if k == "account" else transfers
            if k == "transfer" and st == "created" and ev["pending_id"] != "0":
                assert ev["pending_id"] in transfers, (name, a["line"])
            if st == "exists":
                assert ev["id"] in pool or ev["id"] in linked_failed, (name, a["line"])
            if st == "created":
                pool.add(ev["id"])
            if ev["flags"]["linked"]:
                if st == "linked_event_failed":
                    assert ev["id"] not in linked_failed, (name, a["line"])  # putNoClobber
                    linked_failed.add(ev["id"])
            else:
                linked_failed.clear()
        elif k == "lookup_account" and a["found"]:
            assert a["id"] in accounts, (name, a["line"])
        elif k == "lookup_transfer" and a["found"]:
            assert a["id"] in transfers, (name, a["line"])
        elif k == "setup":
            assert a["account_id"] in accounts, (name, a["line"])
        elif k in ("get_account_balances", "get_account_transfers", "query_transfers",
                   "get_change_events", "query_accounts"):
            pool = accounts if k == "query_accounts" else transfers
            for f in ("timestamp_min_transfer_id", "timestamp_max_transfer_id"):
                v = a["filter"][f]
                assert v is None or v in pool, (name, a["line"], f)
        elif k in ("get_account_balances_result", "get_account_transfers_result",
                   "query_transfers_result"):
            assert a["transfer_id"] in transfers, (name, a["line"])
        elif k == "query_accounts_result":
            assert a["id"] in accounts, (name, a["line"])
        elif k == "get_change_events_result":
            for ref in (a["timestamp_transfer"], a["transfer_pending_id"]):
                assert ref is None or ref in transfers, (name, a["line"])
            for side in ("dr_account", "cr_account"):
                assert a[side]["account_id"] in accounts, (name, a["line"])


def cmd_json(args):
    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    raw_tables = parse_txt(text)
    seen = collections.Counter()
    totals = collections.Counter(n for n, _ in raw_tables)
    out = []
    kinds = collections.Counter()
    comment_lines = 0
    for name, body in raw_tables:
        seen[name] += 1
        actions, comments = decode_table(name, body)
        comment_lines += comments
        model_check(name, actions)
        for a in actions:
            kinds[a["kind"]] += 1
        out.append(collections.OrderedDict([
            ("name", name), ("check", seen[name]), ("checks", totals[name]),
            ("actions", actions)]))
    rendered = json.dumps(out, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        with open(args.output, encoding="utf-8") as f:
            if f.read() != rendered:
                print("DIFFERS: %s is not what json would write" % args.output)
                return 1
    else:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            f.write(rendered)
    summarize(out, kinds, comment_lines)
    if not args.check:
        print("wrote %s" % args.output)
    return 0


def summarize(tables, kinds, comment_lines):
    total = sum(kinds.values())
    print("tables: %d (from %d distinct tests)" % (len(tables), len({t["name"] for t in tables})))
    print("actions: %d (plus %d Zig comment lines, not actions)" % (total, comment_lines))
    for k in sorted(kinds, key=lambda k: (-kinds[k], k)):
        print("  %-30s %4d" % (k, kinds[k]))
    events = kinds["account"] + kinds["transfer"]
    lookups = kinds["lookup_account"] + kinds["lookup_transfer"]
    result_rows = sum(kinds[k] for k in RESULT_OF)
    queries = sum(kinds[k] for k in RESULT_OF.values())
    cases = events + lookups
    print("cases (account + transfer events and lookup_account/lookup_transfer rows, "
          "each carries an expected result): %d" % cases)
    print("  account/transfer events: %d; lookups: %d (of which 'not found': %d)"
          % (events, lookups, sum(1 for t in tables for a in t["actions"]
                                   if a["kind"] in ("lookup_account", "lookup_transfer")
                                   and not a["found"])))
    print("  not counted: %d query/filter rows with %d expected *_result rows; %d commits; "
          "%d setup; %d tick" % (queries, result_rows, kinds["commit"], kinds["setup"], kinds["tick"]))
    print("  cases + query filter rows = %d; cases + *_result rows = %d"
          % (cases + queries, cases + result_rows))
    print("previous count: 674; difference: %+d" % (cases - 674))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract", help="regenerate the .txt from the mirror or a .zig file")
    e.add_argument("zig", nargs="?", help="path to state_machine_tests.zig (default: read from --mirror)")
    e.add_argument("--mirror", default=MIRROR_DEFAULT, help="bare git mirror of tigerbeetle")
    e.add_argument("--rev", default="HEAD", help="revision in the mirror (default HEAD)")
    e.add_argument("--commit", help="commit id to name in the header (default: the resolved --rev)")
    e.add_argument("-o", "--output", default=TXT_DEFAULT)
    e.add_argument("--check", action="store_true", help="compare with --output instead of writing")
    j = sub.add_parser("json", help="decode the .txt into JSON and print a summary")
    j.add_argument("-i", "--input", default=TXT_DEFAULT)
    j.add_argument("-o", "--output", default=JSON_DEFAULT)
    j.add_argument("--check", action="store_true", help="compare with --output instead of writing")
    args = p.parse_args(argv)
    return cmd_extract(args) if args.cmd == "extract" else cmd_json(args)


if __name__ == "__main__":
    sys.exit(main())
