#!/usr/bin/env python3
"""Checks a Kinko audit-log proof independently of Kinko (Python standard library only).

    kinko audit proof --entry 7 > proof.json && python3 scripts/verify_audit_proof.py proof.json
    kinko audit proof --from 5 --to 9 | python3 scripts/verify_audit_proof.py -

Trees, leaf and node hashes and both proof algorithms are those of RFC 9162 §2.1:
leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right). For an inclusion proof it
also recomputes the leaf from the entry's bytes and checks that the entry records its own index.
The checkpoint signatures (Ed25519) are not checked here: the standard library has no Ed25519;
`kinko audit verify` checks them. Prints OK and exits 0, or prints FAILED and the reason and
exits 1.
"""
import hashlib
import json
import sys


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def check(doc):
    hexes = lambda values: [bytes.fromhex(v) for v in values]
    if doc["type"] == "inclusion":
        entry = bytes.fromhex(doc["entry"])
        leaf = hashlib.sha256(b"\x00" + entry).digest()
        index, size = int(doc["index"]), int(doc["size"])
        if leaf.hex() != doc["leaf_hash"]:
            return "the leaf hash does not match the entry"
        if json.loads(entry)["index"] != str(index):
            return "the entry does not record index %d" % index
        if doc["checkpoint"]["root"] != doc["root"] or int(doc["checkpoint"]["size"]) != size:
            return "the proof's root or size differ from its checkpoint"
        if not verify_inclusion(leaf, index, size, hexes(doc["proof"]), bytes.fromhex(doc["root"])):
            return "the inclusion proof does not lead to the root"
        return None
    if doc["type"] == "consistency":
        old_size, new_size = int(doc["old_size"]), int(doc["new_size"])
        if doc["old_checkpoint"]["root"] != doc["old_root"] or doc["new_checkpoint"]["root"] != doc["new_root"]:
            return "the proof's roots differ from its checkpoints"
        if not verify_consistency(old_size, new_size, bytes.fromhex(doc["old_root"]), bytes.fromhex(doc["new_root"]),
                                  hexes(doc["proof"])):
            return "the consistency proof does not join the two roots"
        return None
    return "unknown proof type %r" % doc.get("type")


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0])
        print("usage: verify_audit_proof.py PROOF.json|-")
        return 2
    text = sys.stdin.read() if argv[1] == "-" else open(argv[1]).read()
    if not text.strip():
        # `kinko audit proof … | verify_audit_proof.py -` with a failed kinko command (a token
        # without audit.read, say) pipes nothing: say so rather than "malformed proof".
        print("FAILED: no proof on the input: did the command that printed it fail? (its error is on its standard error)")
        return 1
    try:
        problem = check(json.loads(text))
    except (KeyError, ValueError, TypeError) as error:
        problem = "malformed proof: %s" % error
    if problem:
        print("FAILED: " + problem)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
