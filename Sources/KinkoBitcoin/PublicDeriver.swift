import Crypto
public import KinkoCore

/// Unhardened children of one extended public key, many of them fast: the parent point is
/// parsed once and the HMAC keyed once, so each child costs one HMAC-SHA512, one generator
/// multiplication and one point addition (what 1,000,000 deposit addresses need).
public struct PublicDeriver: Sendable {
    private let parent: Secp256k1.ParsedPoint
    private let publicKey: [UInt8]
    private let hmac: HMAC<SHA512>

    public init(_ key: ExtendedKey) throws(KinkoError) {
        publicKey = key.publicKey
        parent = try Secp256k1.parse(publicKey: key.publicKey)
        hmac = HMAC<SHA512>(key: SymmetricKey(data: key.chainCode))
    }

    /// The compressed public key of child `index` (unhardened).
    public func child(_ index: UInt32) throws(KinkoError) -> [UInt8] {
        guard index < ChildNumber.hardenedBit else { throw KinkoError(.invalidInput, "a public key derives unhardened children only", field: "index") }
        var mac = hmac
        mac.update(data: publicKey)
        mac.update(data: [UInt8(index >> 24), UInt8(truncatingIfNeeded: index >> 16), UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)])
        return try Secp256k1.add(parsed: parent, tweak: Array(Array(mac.finalize()).prefix(32)))
    }
}

extension Descriptor {
    /// Addresses `range` of `branch`, derived with one `PublicDeriver` per key (the branch key
    /// derived once): for deposit addresses by the million. Equal to `address(branch:index:network:)`.
    public func addresses(branch: Int, range: Range<UInt32>, network: BitcoinNetwork) throws(KinkoError) -> [String] {
        guard wrapper == .wsh, isRanged, isDerivableFromPublicKeys else {
            return try range.map { (index) throws(KinkoError) -> String in try address(branch: branch, index: index, network: network) }
        }
        try checkAddresses(on: network)
        guard (0..<branchCount).contains(branch) else { throw KinkoError(.invalidInput, "the descriptor has \(branchCount) branch(es)", field: "branch") }
        /// Each key's point: fixed, or derived per index.
        enum Source {
            case fixed([UInt8])
            case derived(PublicDeriver)
        }
        var sources: [Source] = []
        for key in keys {
            switch key.material {
            case .point(let point, _):
                sources.append(.fixed(point))
            case .extended(let extended, let steps, let branches, _):
                var path = steps.steps
                if let branches { path.append(ChildNumber(branches[branch])) }
                sources.append(.derived(try PublicDeriver(extended.derive(DerivationPath(path)))))
            }
        }
        var result: [String] = []
        result.reserveCapacity(range.count)
        for index in range {
            var points: [[UInt8]] = []
            points.reserveCapacity(sources.count)
            for source in sources {
                switch source {
                case .fixed(let point): points.append(point)
                case .derived(let deriver): points.append(try deriver.child(index))
                }
            }
            result.append(Bech32.segwitAddress(hrp: network.hrp, version: 0, program: BitcoinHash.sha256(multisigScript(points))))
        }
        return result
    }
}
