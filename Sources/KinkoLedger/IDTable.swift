/// A hash table from 128-bit ids to 64-bit values: open addressing with linear probing and
/// Fibonacci hashing, tuned for the ledger's hot path. Compared with `Dictionary` it hashes an
/// id with one multiply instead of SipHash, stores 24 bytes a slot, and grows (doubling) in a
/// fraction of the time, which keeps batch latency flat as the index grows to millions.
///
/// Ids are client-chosen, so they may be adversarial; the multiply spreads both halves, and
/// the load factor stays at or below 1/2 so probe sequences stay short. The reserved id `0`
/// marks an empty slot (the ledger never stores id 0).
struct IDTable {
    private var keys: [UInt128]
    private var values: [UInt64]
    private var shift: UInt64
    private(set) var count = 0

    /// Smallest capacity (slots); a power of two.
    static let capacityMin = 1 << 10

    init(minimumCapacity: Int = IDTable.capacityMin) {
        var capacity = IDTable.capacityMin
        while capacity < minimumCapacity * 2 { capacity <<= 1 }
        keys = [UInt128](repeating: 0, count: capacity)
        values = [UInt64](repeating: 0, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    var capacity: Int { keys.count }

    @inline(__always)
    private func home(_ key: UInt128) -> Int {
        let mixed = (UInt64(truncatingIfNeeded: key) ^ UInt64(truncatingIfNeeded: key >> 64) &* 0xC2B2_AE3D_27D4_EB4F)
            &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> shift)
    }

    subscript(key: UInt128) -> UInt64? {
        get {
            precondition(key != 0, "id 0 is reserved")
            let mask = keys.count - 1
            var slot = home(key)
            while true {
                let stored = keys[slot]
                if stored == key { return values[slot] }
                if stored == 0 { return nil }
                slot = (slot + 1) & mask
            }
        }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    mutating func insert(_ key: UInt128, _ value: UInt64) {
        precondition(key != 0, "id 0 is reserved")
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var slot = home(key)
        while true {
            let stored = keys[slot]
            if stored == key {
                values[slot] = value
                return
            }
            if stored == 0 {
                keys[slot] = key
                values[slot] = value
                count += 1
                return
            }
            slot = (slot + 1) & mask
        }
    }

    /// Removes by backward shift, so no tombstones are left behind.
    mutating func remove(_ key: UInt128) {
        let mask = keys.count - 1
        var slot = home(key)
        while keys[slot] != key {
            if keys[slot] == 0 { return }
            slot = (slot + 1) & mask
        }
        var hole = slot
        var next = (hole + 1) & mask
        while keys[next] != 0 {
            let wanted = home(keys[next])
            // Move the entry back into the hole if its home is not between the hole and it.
            let distanceToNext = (next - wanted) & mask
            let distanceToHole = (hole - wanted) & mask
            if distanceToHole < distanceToNext {
                keys[hole] = keys[next]
                values[hole] = values[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        keys[hole] = 0
        values[hole] = 0
        count -= 1
    }

    /// Makes room for `additional` more entries without growing on the way.
    mutating func reserve(_ additional: Int) {
        while (count + additional) * 2 > keys.count { grow() }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt128](repeating: 0, count: oldKeys.count * 2)
        values = [UInt64](repeating: 0, count: oldKeys.count * 2)
        shift -= 1
        count = 0
        let mask = keys.count - 1
        for index in oldKeys.indices where oldKeys[index] != 0 {
            var slot = home(oldKeys[index])
            while keys[slot] != 0 { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[index]
            values[slot] = oldValues[index]
            count += 1
        }
    }
}
