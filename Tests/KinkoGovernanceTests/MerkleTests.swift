import Crypto
import KinkoCore
import KinkoGovernance
import Testing

@Suite("Merkle tree (RFC 9162)")
struct MerkleTests {
    static func leaves(_ count: Int) -> [Merkle.Hash] { (0..<count).map { Merkle.leafHash(Array("entry \($0)".utf8)) } }

    // Goal: the hashing matches the RFC's definitions, checked by hand for small trees.
    @Test func rootsOfSmallTrees() {
        let l = Self.leaves(3)
        #expect(Merkle.root([][...]) == Array(SHA256.hash(data: [UInt8]())))
        #expect(Merkle.root(l[..<1]) == l[0])
        #expect(Merkle.root(l[..<2]) == Merkle.nodeHash(l[0], l[1]))
        #expect(Merkle.root(l[...]) == Merkle.nodeHash(Merkle.nodeHash(l[0], l[1]), l[2]))
        #expect(Merkle.leafHash([]) == Array(SHA256.hash(data: [0x00])))
    }

    // Goal: the frontier gives the same root as the full tree at every size, and survives
    // its stored form.
    @Test func frontierMatchesFullTree() throws {
        let all = Self.leaves(300)
        var frontier = MerkleFrontier()
        for (index, leaf) in all.enumerated() {
            frontier.append(leaf)
            #expect(frontier.root == Merkle.root(all[...index]), "size \(index + 1)")
            #expect(try MerkleFrontier(encoded: frontier.encoded) == frontier)
        }
        #expect(throws: KinkoError.self) { try MerkleFrontier(encoded: [1, 0, 0]) }
    }

    // Goal: every inclusion proof of every tree up to 64 leaves verifies; any change fails.
    @Test func inclusionProofs() {
        let all = Self.leaves(64)
        for size in 1...64 {
            let root = Merkle.root(all[..<size])
            for index in 0..<size {
                let proof = Merkle.inclusionProof(index: index, leaves: all[..<size])
                #expect(Merkle.verifyInclusion(leaf: all[index], index: index, size: size, proof: proof, root: root))
                #expect(!Merkle.verifyInclusion(leaf: all[(index + 1) % 64], index: index, size: size, proof: proof, root: root))
                if !proof.isEmpty {
                    var altered = proof
                    altered[0][0] ^= 1
                    #expect(!Merkle.verifyInclusion(leaf: all[index], index: index, size: size, proof: altered, root: root))
                }
                if size > 1 {
                    #expect(!Merkle.verifyInclusion(leaf: all[index], index: (index + 1) % size, size: size, proof: proof, root: root))
                }
            }
        }
    }

    // Goal: every consistency proof between two sizes up to 48 verifies; altered ones fail.
    @Test func consistencyProofs() {
        let all = Self.leaves(48)
        for new in 1...48 {
            let newRoot = Merkle.root(all[..<new])
            for old in 1...new {
                let oldRoot = Merkle.root(all[..<old])
                let proof = Merkle.consistencyProof(old: old, leaves: all[..<new])
                #expect(Merkle.verifyConsistency(oldSize: old, newSize: new, oldRoot: oldRoot, newRoot: newRoot, proof: proof), "\(old)→\(new)")
                if old < new {
                    var altered = proof
                    altered[altered.count - 1][5] ^= 0x80
                    #expect(!Merkle.verifyConsistency(oldSize: old, newSize: new, oldRoot: oldRoot, newRoot: newRoot, proof: altered))
                    #expect(!Merkle.verifyConsistency(oldSize: old, newSize: new, oldRoot: newRoot, newRoot: newRoot, proof: proof) || oldRoot == newRoot)
                }
            }
        }
    }
}

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    // Goal: the byte form is Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True).
    @Test func matchesPythonsCanonicalForm() throws {
        let value: CanonicalJSON = ["b": "x", "a": .array(["1", "é\n\"\\\t"]), "B": ["z": "🙂"]]
        #expect(value.text == #"{"B":{"z":"\ud83d\ude42"},"a":["1","\u00e9\n\"\\\t"],"b":"x"}"#)
        #expect(try CanonicalJSON(parsing: value.bytes) == value)
        #expect(throws: KinkoError.self) { try CanonicalJSON(parsing: Array(#"{"a": 1}"#.utf8)) }
    }
}
