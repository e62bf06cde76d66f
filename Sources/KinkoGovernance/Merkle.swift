import Crypto
public import KinkoCore

/// The audit log's Merkle tree, as in RFC 9162 (Certificate Transparency 2.0): leaf hash
/// SHA-256(0x00 ‖ entry), node hash SHA-256(0x01 ‖ left ‖ right), the tree over n leaves split at
/// the largest power of two below n. Proofs and their verification follow §2.1.3 and §2.1.4.
public enum Merkle {
    public typealias Hash = [UInt8]

    public static func leafHash(_ entry: [UInt8]) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: entry)
        return Array(hasher.finalize())
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    public static let emptyRoot: Hash = Array(SHA256.hash(data: [UInt8]()))

    /// The largest power of two strictly below n (n ≥ 2).
    static func split(_ n: Int) -> Int {
        precondition(n >= 2, "split of \(n)")
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH over leaf hashes.
    public static func root(_ leaves: ArraySlice<Hash>) -> Hash {
        switch leaves.count {
        case 0: return emptyRoot
        case 1: return leaves[leaves.startIndex]
        default:
            let k = split(leaves.count)
            let middle = leaves.startIndex + k
            return nodeHash(root(leaves[..<middle]), root(leaves[middle...]))
        }
    }

    /// The audit path of leaf `index` in the tree of `leaves` (RFC 9162 §2.1.3.1).
    public static func inclusionProof(index: Int, leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(index >= 0 && index < leaves.count, "leaf \(index) outside a tree of \(leaves.count)")
        guard leaves.count > 1 else { return [] }
        let k = split(leaves.count)
        let middle = leaves.startIndex + k
        if index < k {
            return inclusionProof(index: index, leaves: leaves[..<middle]) + [root(leaves[middle...])]
        }
        return inclusionProof(index: index - k, leaves: leaves[middle...]) + [root(leaves[..<middle])]
    }

    /// The consistency proof between the first `old` leaves and all of `leaves` (§2.1.4.1).
    public static func consistencyProof(old: Int, leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(old >= 0 && old <= leaves.count, "old size \(old) past new size \(leaves.count)")
        guard old > 0 && old < leaves.count else { return [] }
        return subproof(old, leaves, complete: true)
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<Hash>, complete: Bool) -> [Hash] {
        let n = leaves.count
        if m == n { return complete ? [] : [root(leaves)] }
        let k = split(n)
        let middle = leaves.startIndex + k
        if m <= k {
            return subproof(m, leaves[..<middle], complete: complete) + [root(leaves[middle...])]
        }
        return subproof(m - k, leaves[middle...], complete: false) + [root(leaves[..<middle])]
    }

    /// Verifies an inclusion proof (§2.1.3.2).
    public static func verifyInclusion(leaf: Hash, index: Int, size: Int, proof: [Hash], root: Hash) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1
        var r = leaf
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Verifies a consistency proof between two tree heads (§2.1.4.2).
    public static func verifyConsistency(oldSize: Int, newSize: Int, oldRoot: Hash, newRoot: Hash, proof: [Hash]) -> Bool {
        guard oldSize >= 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        if proof.isEmpty { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }  // a power of two
        guard let first = path.first else { return false }
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first, sr = first
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }
}

/// The perfect subtrees whose concatenation is the tree so far (one per 1-bit of its size),
/// largest first: enough to append a leaf and compute the root in O(log n).
public struct MerkleFrontier: Sendable, Equatable {
    public private(set) var size: Int = 0
    /// (height, hash), leftmost (largest) first.
    public private(set) var subtrees: [(height: Int, hash: Merkle.Hash)] = []

    public init() {}

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.size == rhs.size && lhs.subtrees.map(\.height) == rhs.subtrees.map(\.height)
            && lhs.subtrees.map(\.hash) == rhs.subtrees.map(\.hash)
    }

    public mutating func append(_ leaf: Merkle.Hash) {
        subtrees.append((0, leaf))
        size += 1
        while subtrees.count >= 2 && subtrees[subtrees.count - 1].height == subtrees[subtrees.count - 2].height {
            let right = subtrees.removeLast()
            let left = subtrees.removeLast()
            subtrees.append((left.height + 1, Merkle.nodeHash(left.hash, right.hash)))
        }
    }

    public var root: Merkle.Hash {
        guard var accumulator = subtrees.last?.hash else { return Merkle.emptyRoot }
        for subtree in subtrees.dropLast().reversed() { accumulator = Merkle.nodeHash(subtree.hash, accumulator) }
        return accumulator
    }

    /// Stored form: 8-byte little-endian size, then the hashes (heights follow from the size).
    public var encoded: [UInt8] {
        var bytes = withUnsafeBytes(of: UInt64(size).littleEndian) { Array($0) }
        for subtree in subtrees { bytes += subtree.hash }
        return bytes
    }

    public init(encoded bytes: [UInt8]) throws(KinkoError) {
        guard bytes.count >= 8, (bytes.count - 8) % 32 == 0 else {
            throw KinkoError(.storageCorrupted, "an audit frontier of \(bytes.count) bytes is malformed")
        }
        var size: UInt64 = 0
        for (shift, byte) in bytes.prefix(8).enumerated() { size |= UInt64(byte) << (8 * UInt64(shift)) }
        let heights = (0..<64).reversed().filter { size >> UInt64($0) & 1 == 1 }
        guard heights.count == (bytes.count - 8) / 32 else {
            throw KinkoError(.storageCorrupted, "an audit frontier for size \(size) holds \((bytes.count - 8) / 32) hashes")
        }
        self.size = Int(size)
        subtrees = heights.enumerated().map { index, height in
            (height, Array(bytes[8 + index * 32..<8 + (index + 1) * 32]))
        }
    }
}
