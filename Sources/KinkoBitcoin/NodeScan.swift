import Foundation
public import KinkoCore

/// A Bitcoin Core node's `scantxoutset`: the request that scans the UTXO set for a wallet's
/// receive and change branches, and its answer read as observed outputs. No I/O here: the
/// front end sends the request (JSON-RPC over HTTP) and hands the answer back.
public enum NodeScan {
    /// The JSON-RPC body: `scantxoutset start` with one scan object per branch (the descriptor
    /// with `<0;1>` written out, each with its checksum) over indices `0…ranges[branch]`.
    public static func request(descriptor: Descriptor, ranges: [UInt32], id: String = "kinko") throws(KinkoError) -> [UInt8] {
        let text = descriptor.description
        guard text.contains("<0;1>"), ranges.count == 2 else {
            throw KinkoError(.invalidInput, "a node scan needs a <0;1> descriptor and a range per branch", field: "descriptor")
        }
        var objects: [[String: Any]] = []
        for (branch, range) in ranges.enumerated() {
            let single = text.replacingOccurrences(of: "<0;1>", with: String(branch))
            guard let checksum = Descriptor.checksum(single) else { throw KinkoError(.invalidInput, "the descriptor has a character BIP 380 does not allow", field: "descriptor") }
            objects.append(["desc": single + "#" + checksum, "range": [0, Int(range)]])
        }
        let body: [String: Any] = ["jsonrpc": "1.0", "id": id, "method": "scantxoutset", "params": ["start", objects]]
        do {
            return Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw KinkoError(.internalError, "the scan request could not be written: \(error)")
        }
    }

    /// What the node answered.
    public struct Answer: Sendable, Equatable {
        /// The chain height the scan saw.
        public var height: Int
        public var utxos: [ObservedUTXO]
    }

    private struct Envelope: Decodable {
        struct Failure: Decodable { var code: Int; var message: String }
        struct Result: Decodable {
            struct Unspent: Decodable {
                var txid: String
                var vout: UInt32
                var scriptPubKey: String
                var amount: Decimal
                var height: Int
            }
            var success: Bool
            var height: Int
            var unspents: [Unspent]
        }
        var result: Result?
        var error: Failure?
    }

    /// Reads a `scantxoutset` answer: each unspent's amount must be a whole number of
    /// satoshis, its script an address on `network`, its height at most the scan's.
    public static func parse(_ data: [UInt8], network: BitcoinNetwork) throws(KinkoError) -> Answer {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(data))
        } catch {
            throw KinkoError(.invalidInput, "the node's answer is not a scantxoutset result: \(error)", field: "node")
        }
        if let failure = envelope.error { throw KinkoError(.invalidInput, "the node refused the scan: \(failure.message) (\(failure.code))", field: "node") }
        guard let result = envelope.result, result.success else { throw KinkoError(.invalidInput, "the node's scan did not complete", field: "node") }
        var utxos: [ObservedUTXO] = []
        for (index, unspent) in result.unspents.enumerated() {
            let field = "node.unspents[\(index)]"
            let sats = unspent.amount * 100_000_000
            guard sats >= 0, sats <= Decimal(BitcoinTransaction.moneyMax), sats == sats.rounded(), let value = UInt64(exactly: NSDecimalNumber(decimal: sats).uint64Value),
                Decimal(value) == sats
            else {
                throw KinkoError(.invalidInput, "\(unspent.amount) BTC is not a whole number of satoshis within 21 million bitcoin", field: field)
            }
            guard unspent.txid.utf8.count == 64, Hex.decode(unspent.txid) != nil else { throw KinkoError(.invalidInput, "a txid is 64 hex digits", field: field) }
            guard let script = Hex.decode(unspent.scriptPubKey), let address = network.address(scriptPubKey: script) else {
                throw KinkoError(.invalidInput, "the output script has no \(network.rawValue) address", field: field)
            }
            guard (0...result.height).contains(unspent.height) else {
                throw KinkoError(.invalidInput, "height \(unspent.height) is past the scan's \(result.height)", field: field)
            }
            utxos.append(ObservedUTXO(txid: unspent.txid.lowercased(), vout: unspent.vout, valueSats: value, address: address,
                                      confirmations: result.height - unspent.height + 1, blockHeight: unspent.height))
        }
        return Answer(height: result.height, utxos: utxos)
    }
}

extension Decimal {
    fileprivate func rounded() -> Decimal {
        var value = self, result = Decimal()
        NSDecimalRound(&result, &value, 0, .plain)
        return result
    }
}
