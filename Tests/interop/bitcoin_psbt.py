"""embit's side of Kinko's PSBT interop test. Reads one JSON request on stdin:
  {"command": "sign", "psbt": BASE64, "xprv": KEY}  -> {"psbt": BASE64, "signatures": N}
      embit signs every input it holds a key for (its own derivation matching and sighash).
  {"command": "build", "descriptor": D, "network": N, "coins": [{"txid", "vout", "value", "branch", "index"}],
   "payments": [{"script": HEX, "value": SATS}], "change": {"index": I, "value": SATS}}  -> {"psbt": BASE64}
      embit builds the movement's PSBT itself: the inputs' spent outputs, witness scripts and
      key derivations, the change output's, and the wallet's xpubs with their origins.
  {"command": "check", "psbt": BASE64}  -> {"inputs": [{"threshold": M, "valid": K}], "txid": HEX}
      For a finalized P2WSH multisig PSBT: embit computes each input's BIP 143 sighash itself
      and counts the final witness's signatures that verify against the witness script's keys,
      in order, as OP_CHECKMULTISIG would."""
import json
import sys

from embit import bip32, ec
from embit.descriptor import Descriptor
from embit.networks import NETWORKS
from embit.psbt import PSBT, DerivationPath
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

request = json.load(sys.stdin)
if request["command"] == "build":
    descriptor = Descriptor.from_string(request["descriptor"])
    coins, payments, change = request["coins"], request["payments"], request.get("change")
    outputs = [TransactionOutput(p["value"], Script(bytes.fromhex(p["script"]))) for p in payments]
    if change:
        outputs.append(TransactionOutput(change["value"], descriptor.derive(change["index"], branch_index=1).script_pubkey()))
    tx = Transaction(version=2, vin=[TransactionInput(bytes.fromhex(c["txid"]), c["vout"], sequence=0xFFFFFFFD) for c in coins], vout=outputs)
    psbt = PSBT(tx)

    def derive(scope, branch, index):
        derived = descriptor.derive(index, branch_index=branch)
        scope.witness_script = derived.witness_script()
        for key in derived.keys:
            scope.bip32_derivations[key.get_public_key()] = DerivationPath(key.origin.fingerprint, key.origin.derivation)
        return derived

    for scope, coin in zip(psbt.inputs, coins):
        derived = derive(scope, coin["branch"], coin["index"])
        scope.witness_utxo = TransactionOutput(coin["value"], derived.script_pubkey())
    if change:
        derive(psbt.outputs[-1], 1, change["index"])
    for key in descriptor.keys:
        psbt.xpubs[key.key] = DerivationPath(key.origin.fingerprint, key.origin.derivation)
    json.dump({"psbt": psbt.to_base64()}, sys.stdout)
    sys.exit(0)
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
