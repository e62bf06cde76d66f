import Crypto
public import KinkoCore

/// Unhardened children of one extended public key, many of them fast: the parent point is
/// parsed once and the HMAC keyed once, so each child costs one HMAC-SHA512, one generator
/// multiplication and one point addition (what 1,000,000 deposit addresses need).
public struct PublicDeriver: Sendable {
    private let parent: Secp256k1.ParsedPoint
    private let publicKey: [UInt8]
    /// HMAC-SHA512 keyed with the chain code: the hash states after the inner and the outer
    /// padded key, so each child hashes only its own 37 bytes and the inner digest.
    private let inner: SHA512
    private let outer: SHA512

    public init(_ key: ExtendedKey) throws(KinkoError) {
        publicKey = key.publicKey
        parent = try Secp256k1.parse(publicKey: key.publicKey)
        let padded = key.chainCode + [UInt8](repeating: 0, count: 128 - key.chainCode.count)
        var inner = SHA512(), outer = SHA512()
        inner.update(data: padded.map { $0 ^ 0x36 })
        outer.update(data: padded.map { $0 ^ 0x5C })
        (self.inner, self.outer) = (inner, outer)
    }

    /// The compressed public key of child `index` (unhardened).
    public func child(_ index: UInt32) throws(KinkoError) -> [UInt8] {
        guard index < ChildNumber.hardenedBit else { throw KinkoError(.invalidInput, "a public key derives unhardened children only", field: "index") }
        return try Secp256k1.add(parsed: parent, tweak: tweak(index))
    }

    /// I_L of child `index`: HMAC-SHA512(chain code, parent key ‖ index), its first 32 bytes.
    func tweak(_ index: UInt32) -> [UInt8] {
        let limbs = tweakLimbs(index)
        return [limbs.3, limbs.2, limbs.1, limbs.0].flatMap { limb in (0..<8).map { UInt8(truncatingIfNeeded: limb >> (56 - 8 * UInt64($0))) } }
    }

    /// I_L as four 64-bit limbs, least significant first.
    func tweakLimbs(_ index: UInt32) -> (UInt64, UInt64, UInt64, UInt64) {
        var message = [UInt8](repeating: 0, count: 37)
        for (offset, byte) in publicKey.prefix(33).enumerated() { message[offset] = byte }
        message[33] = UInt8(index >> 24)
        message[34] = UInt8(truncatingIfNeeded: index >> 16)
        message[35] = UInt8(truncatingIfNeeded: index >> 8)
        message[36] = UInt8(truncatingIfNeeded: index)
        var first = inner
        message.withUnsafeBytes { first.update(bufferPointer: $0) }
        var second = outer
        first.finalize().withUnsafeBytes { second.update(bufferPointer: $0) }
        return second.finalize().withUnsafeBytes { digest in
            func limb(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(digest[at + $1]) } }
            return (limb(24), limb(16), limb(8), limb(0))
        }
    }
}

extension Descriptor {
    /// Addresses `range` of `branch`, derived with one `PublicDeriver` per key (the branch key
    /// derived once): for deposit addresses by the million. Equal to `address(branch:index:network:)`.
    public func addresses(branch: Int, range: Range<UInt32>, network: BitcoinNetwork) throws(KinkoError) -> [String] {
        try addresses(branch: branch, range: range, network: network, table: range.count >= Self.batchDerivationMin ? GeneratorTable.shared : nil)
    }

    /// `table`: the generator table of the batch path, or nil for libsecp256k1 one by one.
    func addresses(branch: Int, range: Range<UInt32>, network: BitcoinNetwork, table: GeneratorTable?) throws(KinkoError) -> [String] {
        guard wrapper == .wsh, isRanged, isDerivableFromPublicKeys, !keys.contains(where: \.isUncompressed) else {
            return try range.map { (index) throws(KinkoError) -> String in try address(branch: branch, index: index, network: network) }
        }
        try checkAddresses(on: network)
        guard (0..<branchCount).contains(branch) else { throw KinkoError(.invalidInput, "the descriptor has \(branchCount) branch(es)", field: "branch") }
        /// Each key's point: fixed, or derived per index (a batch at a time for many).
        enum Source {
            case fixed([UInt8])
            case derived(PublicDeriver, BatchPublicDeriver?)
        }
        var sources: [Source] = []
        for key in keys {
            switch key.material {
            case .point(let point, _):
                sources.append(.fixed(point))
            case .extended(let extended, let steps, let branches, _):
                var path = steps.steps
                if let branches { path.append(ChildNumber(branches[branch])) }
                let branchKey = try extended.derive(DerivationPath(path))
                let deriver = try PublicDeriver(branchKey)
                sources.append(.derived(deriver, table.flatMap { BatchPublicDeriver(branchKey, slow: deriver, table: $0) }))
            }
        }
        var result: [String] = []
        result.reserveCapacity(range.count)
        var writer = P2WSHAddressWriter(hrp: network.hrp, threshold: threshold, keys: keys.count, sorted: kind == .sortedmulti)
        var start = range.lowerBound
        while start < range.upperBound {
            let end = start + min(Self.batchSize, range.upperBound - start)
            let count = Int(end - start)
            var columns: [[UInt8]] = []  // per key: 33 bytes per index
            for source in sources {
                switch source {
                case .fixed(let point): columns.append(Array([[UInt8]](repeating: point, count: count).joined()))
                case .derived(_, let batch?): columns.append(try batch.children(start..<end))
                case .derived(let deriver, nil):
                    columns.append(Array(try (start..<end).map { (index) throws(KinkoError) -> [UInt8] in try deriver.child(index) }.joined()))
                }
            }
            for offset in 0..<count {
                result.append(writer.address(columns.map { $0[(33 * offset)..<(33 * offset + 33)] }))
            }
            start = end
        }
        return result
    }

    /// From this many addresses on, children are derived in batches from the generator table
    /// (built once per process); fewer go through libsecp256k1 one by one.
    public static let batchDerivationMin = 1_000
    /// Children derived per batch (one field inversion per batch and digit).
    static let batchSize: UInt32 = 1_024
}
