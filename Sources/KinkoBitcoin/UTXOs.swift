import Foundation
public import KinkoCore

/// An unspent output as a node or an explorer reports it, one JSON object per line:
/// `{"txid", "vout", "value_sats", "address", "confirmations", "block_height"}`.
public struct ObservedUTXO: Sendable, Hashable {
    public var txid: String
    public var vout: UInt32
    public var valueSats: UInt64
    public var address: String
    public var confirmations: Int
    public var blockHeight: Int?

    public init(txid: String, vout: UInt32, valueSats: UInt64, address: String, confirmations: Int, blockHeight: Int? = nil) {
        self.txid = txid
        self.vout = vout
        self.valueSats = valueSats
        self.address = address
        self.confirmations = confirmations
        self.blockHeight = blockHeight
    }

    /// One line as written.
    private struct Row: Decodable {
        var txid: String, vout: Int64, value_sats: Int64, address: String, confirmations: Int64, block_height: Int64?
    }

    /// The first field of a line whose value is not what it should be (a whole number where
    /// one is expected, judged by its JSON text: `true` and `1.5` are not), for the error.
    private static func offendingField(_ line: String) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return nil }
        for key in ["txid", "address"] where !(object[key] is String) { return key }
        for key in ["vout", "value_sats", "confirmations", "block_height"] {
            guard let value = object[key] else {
                if key == "block_height" { continue }
                return key
            }
            if key == "block_height", value is NSNull { continue }
            guard let data = try? JSONSerialization.data(withJSONObject: [value]), let text = String(data: data, encoding: .utf8),
                text.range(of: #"^\[-?[0-9]+\]$"#, options: .regularExpression) != nil
            else { return key }
        }
        return nil
    }

    /// Lines one file may hold at most.
    public static let linesMax = 1_000_000

    /// Reads NDJSON, refusing the first bad line with its number and field.
    public static func parse(ndjson text: String) throws(KinkoError) -> [ObservedUTXO] {
        var result: [ObservedUTXO] = []
        var seen = Set<String>()
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let number = offset + 1
            guard result.count < linesMax else { throw KinkoError(.limitExceeded, "more than \(linesMax) outputs", field: "utxos") }
            func bad(_ field: String, _ reason: String) -> KinkoError { KinkoError(.invalidInput, "line \(number): \(reason)", field: field) }
            let row: Row
            do {
                row = try JSONDecoder().decode(Row.self, from: Data(line.utf8))
            } catch let DecodingError.typeMismatch(_, context) {
                throw bad(context.codingPath.last?.stringValue ?? "utxos", "not the expected type (whole numbers, strings)")
            } catch let DecodingError.keyNotFound(key, _) {
                throw bad(key.stringValue, "missing")
            } catch let DecodingError.valueNotFound(_, context) {
                throw bad(context.codingPath.last?.stringValue ?? "utxos", "null")
            } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
                throw bad(context.codingPath.last?.stringValue ?? "utxos", "not a whole number in range")
            } catch {
                throw bad(Self.offendingField(line) ?? "utxos", Self.offendingField(line) == nil ? "not a JSON object" : "not the expected type (whole numbers, strings)")
            }
            let txid = row.txid
            guard txid.utf8.count == 64, Hex.decode(txid) != nil else { throw bad("txid", "64 hex digits") }
            guard (0...Int64(UInt32.max)).contains(row.vout) else { throw bad("vout", "an output index 0–4294967295") }
            guard row.value_sats > 0, UInt64(row.value_sats) <= BitcoinTransaction.moneyMax else { throw bad("value_sats", "satoshis, 1–2,100,000,000,000,000") }
            let address = row.address
            guard !address.isEmpty, address.utf8.count <= Bech32.lengthMax else { throw bad("address", "an address") }
            guard (0...100_000_000).contains(row.confirmations) else { throw bad("confirmations", "a count, 0 or more") }
            if let height = row.block_height, !(0...100_000_000).contains(height) { throw bad("block_height", "a block height or null") }
            let (vout, value, confirmations, height) = (row.vout, row.value_sats, row.confirmations, row.block_height.map(Int.init))
            guard seen.insert("\(txid.lowercased()):\(vout)").inserted else { throw bad("txid", "\(txid):\(vout) appears twice") }
            result.append(ObservedUTXO(txid: txid.lowercased(), vout: UInt32(vout), valueSats: UInt64(value), address: address, confirmations: Int(confirmations),
                                       blockHeight: height))
        }
        return result
    }
}

/// Which observed outputs belong to a wallet: its receive and change addresses are derived
/// until `gapLimit` consecutive unused ones follow the last used one on each branch.
public struct WalletScan: Sendable {
    /// The gap limit BIP 44 wallets use.
    public static let gapLimitDefault = 20
    /// The largest gap limit a scan accepts.
    public static let gapLimitMax = 10_000

    public var coins: [WalletPSBTBuilder.Coin] = []
    /// Outputs not at any derived address (another wallet's, or past the gap limit).
    public var foreign: [ObservedUTXO] = []
    /// Outputs with fewer confirmations than asked for (listed, not spendable yet).
    public var unconfirmed: [ObservedUTXO] = []
    /// Per branch, the highest index with an output (nil: none).
    public var highestUsed: [Int: UInt32] = [:]

    public init(descriptor: Descriptor, network: BitcoinNetwork, utxos: [ObservedUTXO], gapLimit: Int = WalletScan.gapLimitDefault,
                minimumConfirmations: Int = 1) throws(KinkoError) {
        guard (1...Self.gapLimitMax).contains(gapLimit) else { throw KinkoError(.invalidInput, "a gap limit is 1–\(Self.gapLimitMax)", field: "gap_limit") }
        guard minimumConfirmations >= 0 else { throw KinkoError(.invalidInput, "0 or more", field: "min_confirmations") }
        var wanted = Dictionary(grouping: utxos, by: \.address)
        var located: [String: (branch: Int, index: UInt32)] = [:]
        for branch in 0..<descriptor.branchCount {
            var next: UInt32 = 0
            var lastUsed: Int64 = -1
            while Int64(next) <= lastUsed + Int64(gapLimit), !wanted.isEmpty, next < ChildNumber.hardenedBit {
                let end = UInt32(min(Int64(ChildNumber.hardenedBit), max(Int64(next) + Int64(gapLimit), lastUsed + Int64(gapLimit) + 1)))
                for (offset, address) in try descriptor.addresses(branch: branch, range: next..<end, network: network).enumerated() {
                    let index = next + UInt32(offset)
                    // Past the gap: a wallet following the gap limit never handed this address out.
                    guard Int64(index) <= lastUsed + Int64(gapLimit) else { break }
                    if wanted.removeValue(forKey: address) != nil {
                        located[address] = (branch, index)
                        lastUsed = Int64(index)
                    }
                }
                next = end
            }
            if lastUsed >= 0 { highestUsed[branch] = UInt32(lastUsed) }
        }
        for utxo in utxos {
            guard let place = located[utxo.address] else {
                foreign.append(utxo)
                continue
            }
            if utxo.confirmations < minimumConfirmations {
                unconfirmed.append(utxo)
            } else {
                coins.append(WalletPSBTBuilder.Coin(txid: utxo.txid, vout: utxo.vout, value: utxo.valueSats, branch: place.branch, index: place.index))
            }
        }
    }

    /// The next change index: one past the highest used on the change branch.
    public var nextChangeIndex: UInt32 { highestUsed[1].map { $0 + 1 } ?? 0 }
}

extension BitcoinNetwork {
    /// The address that pays `script` on this network: segwit (any version) or base58
    /// P2PKH/P2SH; nil for a script with no address form.
    public func address(scriptPubKey script: [UInt8]) -> String? {
        switch Script.kind(of: script) {
        case .p2wsh(let hash), .p2wpkh(let hash): return Bech32.segwitAddress(hrp: hrp, version: 0, program: hash)
        case .p2sh(let hash): return Base58.encodeCheck([self == .mainnet ? 0x05 : 0xC4] + hash)
        case .p2pkh(let hash): return Base58.encodeCheck([self == .mainnet ? 0x00 : 0x6F] + hash)
        case .other:
            guard script.count >= 4, (0x51...0x60).contains(script[0]), Int(script[1]) == script.count - 2, (2...40).contains(script.count - 2) else { return nil }
            return Bech32.segwitAddress(hrp: hrp, version: script[0] - 0x50, program: Array(script[2...]))
        }
    }

    /// The scriptPubKey an address on this network pays: segwit (Bech32/Bech32m) or base58
    /// P2PKH/P2SH. An address of another network is refused naming `field`.
    public func scriptPubKey(address: String, field: String = "address") throws(KinkoError) -> [UInt8] {
        if address.lowercased().hasPrefix(hrp + "1") {
            let (version, program) = try Bech32.decodeSegwitAddress(address, hrp: hrp)
            return Bech32.scriptPubKey(version: version, program: program)
        }
        guard let payload = Base58.decodeCheck(address), payload.count == 21 else {
            throw KinkoError(.invalidInput, "\(address) is not a \(rawValue) address", field: field)
        }
        switch payload[0] {
        case self == .mainnet ? 0x00 : 0x6F: return Script.p2pkh(keyHash: Array(payload[1...]))
        case self == .mainnet ? 0x05 : 0xC4: return [0xA9, 0x14] + payload[1...] + [0x87]
        default: throw KinkoError(.invalidInput, "\(address) is not a \(rawValue) address", field: field)
        }
    }
}
