"""embit's side of Kinko's PSBT interop test. Reads one JSON request on stdin:
  {"command": "sign", "psbt": BASE64, "xprv": KEY}  -> {"psbt": BASE64, "signatures": N}
      embit signs every input it holds a key for (its own derivation matching and sighash).
  {"command": "check", "psbt": BASE64}  -> {"inputs": [{"threshold": M, "valid": K}], "txid": HEX}
      For a finalized P2WSH multisig PSBT: embit computes each input's BIP 143 sighash itself
      and counts the final witness's signatures that verify against the witness script's keys,
      in order, as OP_CHECKMULTISIG would."""
import json
import sys

from embit import bip32, ec
from embit.psbt import PSBT
from embit.script import Script

request = json.load(sys.stdin)
psbt = PSBT.from_base64(request["psbt"])

if request["command"] == "sign":
    root = bip32.HDKey.from_string(request["xprv"])
    count = psbt.sign_with(root)
    json.dump({"psbt": psbt.to_base64(), "signatures": count}, sys.stdout)
elif request["command"] == "check":
    results = []
    for index, inp in enumerate(psbt.inputs):
        witness = inp.final_scriptwitness.items
        witness_script = Script(witness[-1])
        data = witness_script.data
        # OP_m <33-byte keys> OP_n OP_CHECKMULTISIG
        threshold = data[0] - 0x50
        keys = []
        position = 1
        while data[position] == 33:
            keys.append(ec.PublicKey.parse(data[position + 1 : position + 34]))
            position += 34
        signatures = witness[1:-1]
        digest = psbt.tx.sighash_segwit(index, witness_script, inp.witness_utxo.value)
        valid = 0
        key_index = 0
        for signature in signatures:
            if signature[-1] != 1:
                break
            sig = ec.Signature.parse(signature[:-1])
            while key_index < len(keys) and not keys[key_index].verify(sig, digest):
                key_index += 1
            if key_index == len(keys):
                break
            valid += 1
            key_index += 1
        results.append({"threshold": threshold, "valid": valid})
    json.dump({"inputs": results, "txid": psbt.tx.txid().hex()}, sys.stdout)
else:
    sys.exit("unknown command")
