public import KinkoCore

/// A counterparty relationship as one side sees it: how often money moved, first and last time,
/// and the event that opened it (typologies point at it).
struct Edge: Sendable, Equatable {
    var count: UInt32
    var first: TimestampNanoseconds
    var last: TimestampNanoseconds
    var firstEvent: String
}

/// A recent money event of a customer, for the windowed rules.
struct RecentEvent: Sendable, Equatable {
    enum Flow: UInt8, Sendable { case inflow = 0, outflow = 1, trade = 2 }
    var time: TimestampNanoseconds
    var flow: Flow
    var amountJPY: UInt64
    var id: String
}

/// What monitoring remembers about one customer. It is bounded: at most `recentMax` recent
/// events, `dailyMax` days of inflow totals and `counterpartiesMax` counterparties each way,
/// all within the rule set's longest window. It is saved after every batch, so it survives a restart.
public struct CustomerState: Sendable, Equatable {
    public static let recentMax = MonitoringRules.countMax
    public static let dailyMax = Int(MonitoringRules.windowDaysMax)
    public static let counterpartiesMax = 1_024

    var firstSeen: TimestampNanoseconds
    var lastSeen: TimestampNanoseconds
    var recent: [RecentEvent] = []
    var dailyInflow: [(day: UInt32, jpy: UInt64)] = []
    var outgoing: [UInt64: Edge] = [:]
    var incoming: [UInt64: Edge] = [:]

    init(firstSeen: TimestampNanoseconds) {
        self.firstSeen = firstSeen
        self.lastSeen = firstSeen
    }

    public static func == (lhs: CustomerState, rhs: CustomerState) -> Bool {
        lhs.firstSeen == rhs.firstSeen && lhs.lastSeen == rhs.lastSeen && lhs.recent == rhs.recent && lhs.outgoing == rhs.outgoing
            && lhs.incoming == rhs.incoming && lhs.dailyInflow.map(\.day) == rhs.dailyInflow.map(\.day)
            && lhs.dailyInflow.map(\.jpy) == rhs.dailyInflow.map(\.jpy)
    }

    /// Roughly what the state occupies in memory, in bytes (for the benchmark's per-customer figure).
    public var approximateBytes: Int {
        let edgeBytes = 8 + 4 + 8 + 8 + 16 + 16  // key, count, times, inline string, table overhead
        return 96 + recent.count * 48 + dailyInflow.count * 16 + (outgoing.count + incoming.count) * edgeBytes
            + (recent.map(\.id.utf8.count) + outgoing.values.map(\.firstEvent.utf8.count) + incoming.values.map(\.firstEvent.utf8.count))
            .reduce(0) { $0 + ($1 > 15 ? $1 : 0) }
    }

    /// Forgets what is older than `horizon` and keeps every part within its bound, leaving room
    /// for one more event.
    mutating func prune(now: TimestampNanoseconds, recentHorizon: UInt64, dailyHorizonDays: UInt32, edgeHorizon: UInt64) {
        let recentCut = now >= recentHorizon ? now - recentHorizon : 0
        if let keep = recent.firstIndex(where: { $0.time >= recentCut }) {
            if keep > 0 { recent.removeFirst(keep) }
        } else {
            recent.removeAll(keepingCapacity: true)
        }
        // Room for the event being recorded.
        if recent.count >= Self.recentMax { recent.removeFirst(recent.count - Self.recentMax + 1) }
        let today = UInt32(now / 86_400_000_000_000)
        dailyInflow.removeAll { $0.day + dailyHorizonDays <= today }
        if dailyInflow.count >= Self.dailyMax { dailyInflow.removeFirst(dailyInflow.count - Self.dailyMax + 1) }
        let edgeCut = now >= edgeHorizon ? now - edgeHorizon : 0
        if outgoing.count > Self.counterpartiesMax / 2 { outgoing = outgoing.filter { $0.value.last >= edgeCut } }
        if incoming.count > Self.counterpartiesMax / 2 { incoming = incoming.filter { $0.value.last >= edgeCut } }
    }

    /// Adds a relationship step; returns true when it is the first time this pair is seen.
    static func touch(_ edges: inout [UInt64: Edge], _ key: UInt64, time: TimestampNanoseconds, event: String) -> Bool {
        if var edge = edges[key] {
            edge.count = edge.count &+ 1 == 0 ? edge.count : edge.count + 1
            edge.last = max(edge.last, time)
            edges[key] = edge
            return false
        }
        if edges.count >= counterpartiesMax, let oldest = edges.min(by: { ($0.value.last, $0.key) < ($1.value.last, $1.key) })?.key {
            edges[oldest] = nil
        }
        edges[key] = Edge(count: 1, first: time, last: time, firstEvent: event)
        return true
    }

    // MARK: Encoding

    static let formatVersion: UInt8 = 1

    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(Self.formatVersion)
        w.u64(firstSeen)
        w.u64(lastSeen)
        w.u32(UInt32(recent.count))
        for event in recent {
            w.u64(event.time)
            w.u8(event.flow.rawValue)
            w.u64(event.amountJPY)
            w.string(event.id)
        }
        w.u32(UInt32(dailyInflow.count))
        for day in dailyInflow {
            w.u32(day.day)
            w.u64(day.jpy)
        }
        for edges in [outgoing, incoming] {
            w.u32(UInt32(edges.count))
            for (key, edge) in edges.sorted(by: { $0.key < $1.key }) {
                w.u64(key)
                w.u32(edge.count)
                w.u64(edge.first)
                w.u64(edge.last)
                w.string(edge.firstEvent)
            }
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(KinkoError) {
        var r = ByteReader(bytes)
        guard try r.u8() == Self.formatVersion else { throw KinkoError(.storageCorrupted, "monitoring state has an unknown format") }
        firstSeen = try r.u64()
        lastSeen = try r.u64()
        let recentCount = Int(try r.u32())
        guard recentCount <= Self.recentMax else { throw KinkoError(.storageCorrupted, "monitoring state is over its bounds") }
        for _ in 0..<recentCount {
            let time = try r.u64()
            guard let flow = RecentEvent.Flow(rawValue: try r.u8()) else { throw KinkoError(.storageCorrupted, "monitoring state has an unknown flow") }
            recent.append(RecentEvent(time: time, flow: flow, amountJPY: try r.u64(), id: try r.string()))
        }
        let days = Int(try r.u32())
        guard days <= Self.dailyMax else { throw KinkoError(.storageCorrupted, "monitoring state is over its bounds") }
        for _ in 0..<days { dailyInflow.append((try r.u32(), try r.u64())) }
        for direction in 0..<2 {
            let count = Int(try r.u32())
            guard count <= Self.counterpartiesMax else { throw KinkoError(.storageCorrupted, "monitoring state is over its bounds") }
            var edges: [UInt64: Edge] = [:]
            edges.reserveCapacity(count)
            for _ in 0..<count {
                let key = try r.u64()
                edges[key] = Edge(count: try r.u32(), first: try r.u64(), last: try r.u64(), firstEvent: try r.string())
            }
            if direction == 0 { outgoing = edges } else { incoming = edges }
        }
        guard r.isAtEnd else { throw KinkoError(.storageCorrupted, "monitoring state has trailing bytes") }
    }
}

/// The customers who used one IP address recently (for `shared_ip`).
public struct IPState: Sendable, Equatable {
    var logins: [(customer: UInt64, time: TimestampNanoseconds)] = []

    init() {}

    public static func == (lhs: IPState, rhs: IPState) -> Bool {
        lhs.logins.map(\.customer) == rhs.logins.map(\.customer) && lhs.logins.map(\.time) == rhs.logins.map(\.time)
    }

    mutating func record(customer: UInt64, time: TimestampNanoseconds, horizon: UInt64) {
        let cut = time >= horizon ? time - horizon : 0
        logins.removeAll { $0.customer == customer || $0.time < cut }
        logins.append((customer, time))
        if logins.count > MonitoringRules.countMax { logins.removeFirst(logins.count - MonitoringRules.countMax) }
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(logins.count))
        for login in logins {
            w.u64(login.customer)
            w.u64(login.time)
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(KinkoError) {
        var r = ByteReader(bytes)
        let count = Int(try r.u32())
        guard count <= MonitoringRules.countMax else { throw KinkoError(.storageCorrupted, "IP state is over its bounds") }
        for _ in 0..<count { logins.append((try r.u64(), try r.u64())) }
        guard r.isAtEnd else { throw KinkoError(.storageCorrupted, "IP state has trailing bytes") }
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) throws(KinkoError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw KinkoError(.storageCorrupted, "monitoring state is truncated") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func u8() throws(KinkoError) -> UInt8 { try take(1).first ?? 0 }
    mutating func u32() throws(KinkoError) -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func u64() throws(KinkoError) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func string() throws(KinkoError) -> String {
        let count = Int(try u32())
        guard count <= 4_096 else { throw KinkoError(.storageCorrupted, "monitoring state has an oversized string") }
        return String(decoding: try take(count), as: UTF8.self)
    }
}
