"""Addresses of descriptors, computed by embit (an independent implementation), for Kinko's
interop test. Reads a JSON list of {"descriptor", "network", "branch", "index"} on stdin and
prints a JSON list of addresses, one per request, in order."""
import json
import sys

from embit.descriptor import Descriptor
from embit.networks import NETWORKS

NETWORK = {"mainnet": NETWORKS["main"], "testnet": NETWORKS["test"], "regtest": NETWORKS["regtest"]}

requests = json.load(sys.stdin)
parsed = {}
addresses = []
for request in requests:
    text = request["descriptor"]
    if text not in parsed:
        parsed[text] = Descriptor.from_string(text)
    descriptor = parsed[text]
    derived = descriptor.derive(request["index"], branch_index=request["branch"])
    addresses.append(derived.address(NETWORK[request["network"]]))
json.dump(addresses, sys.stdout)
