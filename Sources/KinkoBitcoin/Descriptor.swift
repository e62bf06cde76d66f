public import KinkoCore

/// Output script descriptors (BIP 380) for multisig wallets: `multi` and `sortedmulti` (BIP 383)
/// inside `wsh` (BIP 382), `sh` (BIP 381) or `sh(wsh(…))`, with keys as hex points or extended
/// public keys with their origin (`[d34db33f/48'/0'/0'/2']xpub…/<0;1>/*`), and the checksum.
/// Kinko's wallets are `wsh(sortedmulti(m, …))` with a receive (`/0/*`) and a change (`/1/*`)
/// branch; the other forms are read so that every vector of the BIPs can be checked.
public struct Descriptor: Sendable, Hashable, CustomStringConvertible {
    /// Where the multisig script sits: bare (the scriptPubKey itself), P2SH, P2WSH, P2SH-P2WSH.
    public enum Wrapper: String, Sendable { case bare, sh, wsh, shWsh = "sh(wsh" }
    public enum Kind: String, Sendable { case multi, sortedmulti }

    /// A key inside `multi(…)`.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        /// The master key's fingerprint and the path from it, as `[d34db33f/48'/0'/0'/2']`.
        public var origin: (fingerprint: [UInt8], path: DerivationPath)? {
            originFingerprint.map { ($0, originPath) }
        }
        let originFingerprint: [UInt8]?
        let originPath: DerivationPath
        /// What a final `*` derives: nothing, an unhardened or a hardened child.
        public enum Wildcard: Sendable, Hashable { case none, unhardened, hardened }
        /// A point (33 bytes, or 65 uncompressed), or an extended key with steps after it. A
        /// private key (WIF or xprv) is read as its public point, and marked.
        public enum Material: Sendable, Hashable {
            case point([UInt8], fromPrivateKey: Bool)
            case extended(ExtendedKey, steps: DerivationPath, branches: [UInt32]?, wildcard: Wildcard)
        }
        public let material: Material
        let text: String

        public var description: String { text }
        public var isRanged: Bool {
            if case .extended(_, _, _, let wildcard) = material { return wildcard != .none }
            return false
        }
        public var isPrivate: Bool {
            switch material {
            case .point(_, let fromPrivateKey): return fromPrivateKey
            case .extended(let key, _, _, _): return key.isPrivate
            }
        }
        var isUncompressed: Bool {
            if case .point(let point, _) = material { return point.count == 65 }
            return false
        }

        /// The point at `branch` (an index into `<a;b>`, 0 otherwise) and `index`.
        func point(branch: Int, index: UInt32) throws(KinkoError) -> [UInt8] {
            switch material {
            case .point(let point, _): return point
            case .extended(let key, let steps, let branches, let wildcard):
                var path = steps.steps
                if let branches {
                    guard branch < branches.count else { throw KinkoError(.invalidInput, "the key has \(branches.count) branches", field: "branch") }
                    path.append(ChildNumber(branches[branch]))
                }
                if wildcard != .none { path.append(ChildNumber(index, hardened: wildcard == .hardened)) }
                return try key.derive(DerivationPath(path)).publicKey
            }
        }
    }

    public let wrapper: Wrapper
    public let kind: Kind
    public let threshold: Int
    public let keys: [Key]

    /// Keys one `multi` may have at most: 15 inside `sh` (its 520-byte script limit), 20 in
    /// `wsh` (`OP_CHECKMULTISIG`'s limit).
    public static let keysMaxInSh = 15
    public static let keysMax = 20

    /// Whether addresses depend on an index (a key ends in `/*`).
    public var isRanged: Bool { keys.contains(where: \.isRanged) }
    /// How many branches its multipath keys have (`<0;1>` is 2); 1 without.
    public var branchCount: Int {
        keys.compactMap { key -> Int? in
            if case .extended(_, _, let branches?, _) = key.material { return branches.count }
            return nil
        }.first ?? 1
    }

    /// Whether every key can be derived without a private key (no hardened step after an xpub).
    /// BIP 380 reads `xpub…/1h/*` as a key, but only its holder can derive it.
    public var isDerivableFromPublicKeys: Bool {
        keys.allSatisfy { key in
            guard case .extended(let extended, let steps, _, let wildcard) = key.material else { return true }
            return extended.isPrivate || (!steps.steps.contains(where: \.isHardened) && wildcard != .hardened)
        }
    }

    /// Whether a key is private (a WIF or xprv key): Kinko stores only public descriptors.
    public var containsPrivateKeys: Bool { keys.contains(where: \.isPrivate) }

    /// The descriptor without checksum, as written (keys as given).
    public var description: String { Self.text(wrapper, kind, threshold, keys) }

    private static func text(_ wrapper: Wrapper, _ kind: Kind, _ threshold: Int, _ keys: [Key]) -> String {
        let inner = "\(kind.rawValue)(\(threshold),\(keys.map(\.text).joined(separator: ",")))"
        switch wrapper {
        case .bare: return inner
        case .sh: return "sh(\(inner))"
        case .wsh: return "wsh(\(inner))"
        case .shWsh: return "sh(wsh(\(inner)))"
        }
    }

    /// The descriptor with its checksum (computed when it was read).
    public var withChecksum: String { description + "#" + checksum }
    private let checksum: String

    // MARK: Parsing

    /// Parses a descriptor; a `#checksum`, when present, must match.
    public init(parsing text: String, field: String = "descriptor") throws(KinkoError) {
        func invalid(_ reason: String) -> KinkoError { KinkoError(.invalidInput, reason, field: field) }
        var body = Substring(text)
        if let hash = text.lastIndex(of: "#") {
            body = text[..<hash]
            let given = String(text[text.index(after: hash)...])
            guard given.count == 8 else { throw invalid("the checksum after # is 8 characters; got \(given.count)") }
            guard let expected = Self.checksum(String(body)) else { throw invalid("a character descriptors do not allow") }
            guard given == expected else { throw invalid("the checksum is \(given); the descriptor's is \(expected)") }
        } else if Self.checksum(String(body)) == nil {
            throw invalid("a character descriptors do not allow")
        }
        let (wrapper, inner): (Wrapper, Substring)
        if body.hasPrefix("sh(wsh("), body.hasSuffix("))") {
            (wrapper, inner) = (.shWsh, body.dropFirst(7).dropLast(2))
        } else if body.hasPrefix("wsh("), body.hasSuffix(")") {
            (wrapper, inner) = (.wsh, body.dropFirst(4).dropLast())
        } else if body.hasPrefix("sh("), body.hasSuffix(")") {
            (wrapper, inner) = (.sh, body.dropFirst(3).dropLast())
        } else if body.hasPrefix("multi(") || body.hasPrefix("sortedmulti(") {
            (wrapper, inner) = (.bare, body)
        } else {
            throw invalid("Kinko reads multi and sortedmulti, bare or inside sh(…), wsh(…) or sh(wsh(…))")
        }
        let kind: Kind
        let arguments: Substring
        if inner.hasPrefix("sortedmulti("), inner.hasSuffix(")") {
            (kind, arguments) = (.sortedmulti, inner.dropFirst(12).dropLast())
        } else if inner.hasPrefix("multi("), inner.hasSuffix(")") {
            (kind, arguments) = (.multi, inner.dropFirst(6).dropLast())
        } else {
            throw invalid("expected multi(…) or sortedmulti(…)")
        }
        let parts = arguments.split(separator: ",", omittingEmptySubsequences: false)
        guard let first = parts.first, let threshold = Int(first), String(threshold) == first else {
            throw invalid("multi's first argument is the threshold, a number")
        }
        let keys = try parts.dropFirst().map { (part) throws(KinkoError) -> Key in try Self.key(String(part), field: field) }
        guard !keys.isEmpty else { throw invalid("multi names no keys") }
        if wrapper == .wsh || wrapper == .shWsh, keys.contains(where: \.isUncompressed) {
            throw invalid("uncompressed keys are not allowed in segwit scripts")
        }
        let keysMax = wrapper == .sh ? Self.keysMaxInSh : Self.keysMax
        guard keys.count <= keysMax else { throw invalid("\(keys.count) keys; \(wrapper == .sh ? "sh(multi)" : "multi") takes at most \(keysMax)") }
        guard (1...keys.count).contains(threshold) else { throw invalid("threshold \(threshold) with \(keys.count) keys (1…\(keys.count))") }
        let branchCounts = Set(keys.compactMap { key -> Int? in
            if case .extended(_, _, let branches?, _) = key.material { return branches.count }
            return nil
        })
        guard branchCounts.count <= 1 else { throw invalid("the keys' <…;…> lists differ in length") }
        guard let checksum = Self.checksum(Self.text(wrapper, kind, threshold, keys)) else { throw invalid("a character descriptors do not allow") }
        self.wrapper = wrapper
        self.kind = kind
        self.threshold = threshold
        self.keys = keys
        self.checksum = checksum
    }

    private static func key(_ text: String, field: String) throws(KinkoError) -> Key {
        func invalid(_ reason: String) -> KinkoError { KinkoError(.invalidInput, "key \(text): \(reason)", field: field) }
        var rest = Substring(text)
        var fingerprint: [UInt8]?
        var originPath = DerivationPath([])
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("an origin [ without ]") }
            let origin = rest[rest.index(after: rest.startIndex)..<close]
            let pieces = origin.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let hex = pieces.first, hex.count == 8, let bytes = Hex.decode(String(hex)) else {
                throw invalid("an origin starts with the 8-hex-digit fingerprint")
            }
            fingerprint = bytes
            if pieces.count == 2 { originPath = try DerivationPath(parsing: String(pieces[1]), field: field) }
            rest = rest[rest.index(after: close)...]
        }
        let segments = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard let head = segments.first, !head.isEmpty else { throw invalid("no key") }
        if head.count == 66 || head.count == 130, let point = Hex.decode(String(head)) {
            guard segments.count == 1 else { throw invalid("a hex key takes no derivation steps") }
            guard Secp256k1.isValidPublicKey(point) else { throw invalid("not a point on the curve") }
            return Key(originFingerprint: fingerprint, originPath: originPath, material: .point(point, fromPrivateKey: false), text: text)
        }
        if let payload = Base58.decodeCheck(String(head)), payload.first == 0x80 || payload.first == 0xEF,
            payload.count == 33 || (payload.count == 34 && payload[33] == 1) {
            guard segments.count == 1 else { throw invalid("a WIF key takes no derivation steps") }
            let point = try Secp256k1.publicKey(secretKey: Array(payload[1..<33]), compressed: payload.count == 34)
            return Key(originFingerprint: fingerprint, originPath: originPath, material: .point(point, fromPrivateKey: true), text: text)
        }
        let extended = try ExtendedKey(parsing: String(head), field: field)
        var steps: [ChildNumber] = []
        var branches: [UInt32]?
        var wildcard = Key.Wildcard.none
        for (position, segment) in segments.dropFirst().enumerated() {
            let last = position == segments.count - 2
            if segment == "*" || segment == "*'" || segment == "*h" {
                guard last else { throw invalid("* is only the last step") }
                wildcard = segment == "*" ? .unhardened : .hardened
            } else if segment.hasPrefix("<"), segment.hasSuffix(">") {
                guard branches == nil else { throw invalid("one <…;…> list per key") }
                let values = segment.dropFirst().dropLast().split(separator: ";", omittingEmptySubsequences: false)
                guard values.count >= 2 else { throw invalid("<…;…> lists at least two indices") }
                var list: [UInt32] = []
                for value in values {
                    guard let index = UInt32(value), index < ChildNumber.hardenedBit, String(index) == value else {
                        throw invalid("<…;…> takes unhardened indices")
                    }
                    list.append(index)
                }
                guard Set(list).count == list.count else { throw invalid("<…;…> repeats an index") }
                branches = list
            } else {
                let step = try DerivationPath(parsing: String(segment), field: field).steps
                guard step.count == 1 else { throw invalid("an empty step") }
                guard branches == nil else { throw invalid("steps after <…;…> other than *") }
                steps.append(step[0])
            }
        }
        return Key(originFingerprint: fingerprint, originPath: originPath, material: .extended(extended, steps: DerivationPath(steps), branches: branches, wildcard: wildcard),
                   text: text)
    }

    // MARK: Scripts and addresses

    /// The multisig script at `index` of `branch`: `OP_k <keys> OP_n OP_CHECKMULTISIG`, keys
    /// sorted for `sortedmulti`.
    public func witnessScript(branch: Int = 0, index: UInt32 = 0) throws(KinkoError) -> [UInt8] {
        guard index < ChildNumber.hardenedBit else { throw KinkoError(.invalidInput, "an index is 0–2147483647", field: "index") }
        var points: [[UInt8]] = []
        points.reserveCapacity(keys.count)
        for key in keys { points.append(try key.point(branch: branch, index: index)) }
        return multisigScript(points)
    }

    /// `OP_m <points> OP_n OP_CHECKMULTISIG`, the points sorted for `sortedmulti`.
    func multisigScript(_ points: [[UInt8]]) -> [UInt8] {
        let ordered = kind == .sortedmulti ? points.sorted { $0.lexicographicallyPrecedes($1) } : points
        var script = Self.pushNumber(threshold)
        for point in ordered { script += [UInt8(point.count)] + point }
        return script + Self.pushNumber(ordered.count) + [0xAE]
    }

    /// The scriptPubKey at `index` of `branch`.
    public func scriptPubKey(branch: Int = 0, index: UInt32 = 0) throws(KinkoError) -> [UInt8] {
        let script = try witnessScript(branch: branch, index: index)
        switch wrapper {
        case .bare: return script
        case .wsh: return [0x00, 0x20] + BitcoinHash.sha256(script)
        case .sh: return [0xA9, 0x14] + BitcoinHash.hash160(script) + [0x87]
        case .shWsh: return [0xA9, 0x14] + BitcoinHash.hash160([0x00, 0x20] + BitcoinHash.sha256(script)) + [0x87]
        }
    }

    /// The address at `index` of `branch` on `network`.
    public func address(branch: Int = 0, index: UInt32 = 0, network: BitcoinNetwork) throws(KinkoError) -> String {
        try checkAddresses(on: network)
        guard let address = network.address(scriptPubKey: try scriptPubKey(branch: branch, index: index)) else {
            throw KinkoError(.invalidInput, "this script has no address", field: "descriptor")
        }
        return address
    }

    /// Refuses a descriptor without addresses (bare multisig) or with keys of another network.
    func checkAddresses(on network: BitcoinNetwork) throws(KinkoError) {
        guard wrapper != .bare else { throw KinkoError(.invalidInput, "a bare multisig script has no address", field: "descriptor") }
        for key in keys {
            guard case .extended(let extended, _, _, _) = key.material, extended.isTestVersion != (network != .mainnet) else { continue }
            throw KinkoError(.invalidInput, "key \(extended.serialized.prefix(4))… is for \(extended.isTestVersion ? "testnet or regtest" : "mainnet"), not \(network.rawValue)",
                             field: "network")
        }
    }

    static func pushNumber(_ n: Int) -> [UInt8] { n <= 16 ? [UInt8(0x50 + n)] : [0x01, UInt8(n)] }

    // MARK: Checksum (BIP 380)

    private static let inputCharset = Array("0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ".utf8)
    private static let inputIndex: [Int] = {
        var table = [Int](repeating: -1, count: 128)
        for (index, character) in inputCharset.enumerated() { table[Int(character)] = index }
        return table
    }()

    private static func polymod(_ symbols: [UInt64]) -> UInt64 {
        let generator: [UInt64] = [0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD]
        var checksum: UInt64 = 1
        for value in symbols {
            let top = checksum >> 35
            checksum = (checksum & 0x7_FFFF_FFFF) << 5 ^ value
            for i in 0..<5 where (top >> UInt64(i)) & 1 == 1 { checksum ^= generator[i] }
        }
        return checksum
    }

    /// The 8-character checksum of a descriptor without one; nil when it has a character
    /// descriptors do not allow.
    public static func checksum(_ descriptor: String) -> String? {
        var symbols: [UInt64] = []
        var groups: [UInt64] = []
        for character in descriptor.utf8 {
            guard character < 128, inputIndex[Int(character)] >= 0 else { return nil }
            let value = UInt64(inputIndex[Int(character)])
            symbols.append(value & 31)
            groups.append(value >> 5)
            if groups.count == 3 {
                symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
                groups = []
            }
        }
        if groups.count == 1 { symbols.append(groups[0]) } else if groups.count == 2 { symbols.append(groups[0] * 3 + groups[1]) }
        let checksum = polymod(symbols + [0, 0, 0, 0, 0, 0, 0, 0]) ^ 1
        return String(decoding: (0..<8).map { Bech32.alphabet[Int((checksum >> UInt64(5 * (7 - $0))) & 31)] }, as: UTF8.self)
    }
}
