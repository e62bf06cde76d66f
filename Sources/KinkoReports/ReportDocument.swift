import Crypto
import Foundation
public import KinkoCore

/// The reports Kinko files or keeps for the FSA, the CPA and the FIU.
public enum ReportKind: String, Sendable, CaseIterable, Codable {
    /// The daily segregation reconciliation (分別管理の日次照合).
    case segregationDaily = "segregation-daily"
    /// The quarterly customer-property report under Art. 38 of the Cabinet Office Order.
    case customerPropertyQuarterly = "customer-property-quarterly"
    /// The evidence pack for the CPA's segregation audit (Art. 28, agreed-upon procedures).
    case cpaEvidence = "cpa-evidence"
    /// The trade journal (取引記録, Art. 34): every trade with customer, side, price, fee.
    case tradeJournal = "trade-journal"
    /// A suspicious transaction report (疑わしい取引の届出) for one case.
    case str
    /// Payments of ¥30,000,000 or more to or from abroad (FEFTA Art. 55).
    case fefta
    /// The notice of an incident to the FSA and its follow-ups.
    case incidentNotice = "incident-notice"
    /// The liability reserve: requirement, funding and adequacy over a period.
    case reserve

    public init(parsing text: String) throws(KinkoError) {
        guard let kind = ReportKind(rawValue: text) else {
            throw KinkoError(.invalidInput, "unknown report \"\(text.prefix(40))\"; one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))",
                             field: "kind")
        }
        self = kind
    }

    /// What period a report of this kind is for.
    public var periodKind: ReportPeriod.Kind {
        switch self {
        case .segregationDaily, .cpaEvidence: .day
        case .customerPropertyQuarterly: .quarter
        case .tradeJournal, .fefta, .reserve: .range
        case .str: .case
        case .incidentNotice: .incident
        }
    }
}

/// The period (or the record) a report covers, with its canonical text: `2026-12-01`,
/// `2026Q4`, an interim quarter to date `2026Q4@2026-12-01`, `2026-10-01..2026-12-31`,
/// `case-3`, `incident-1`.
public enum ReportPeriod: Sendable, Hashable {
    case day(String)
    /// A quarter; with `through`, the quarter to that day (an interim report).
    case quarter(year: Int, quarter: Int, through: String? = nil)
    case range(from: String, to: String)
    case caseRecord(UInt64)
    case incident(UInt64)

    public enum Kind: String, Sendable { case day, quarter, range, `case`, incident }

    /// A range covers at most this many days (a year and a day, for a fiscal year's journal).
    public static let rangeDaysMax = 366

    public var kind: Kind {
        switch self {
        case .day: .day
        case .quarter: .quarter
        case .range: .range
        case .caseRecord: .case
        case .incident: .incident
        }
    }

    public var text: String {
        switch self {
        case .day(let day): day
        case .quarter(let year, let quarter, let through): "\(year)Q\(quarter)" + (through.map { "@" + $0 } ?? "")
        case .range(let from, let to): "\(from)..\(to)"
        case .caseRecord(let id): "case-\(id)"
        case .incident(let id): "incident-\(id)"
        }
    }

    /// Reads the canonical text back (`report list` and the API name periods this way).
    public init(parsing text: String, field: String = "period") throws(KinkoError) {
        if text.hasPrefix("case-"), let id = UInt64(text.dropFirst(5)), id > 0 { self = .caseRecord(id); return }
        if text.hasPrefix("incident-"), let id = UInt64(text.dropFirst(9)), id > 0 { self = .incident(id); return }
        if text.utf8.count >= 6, text.utf8.dropFirst(4).first == UInt8(ascii: "Q") {
            let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
            self = try Self.quarter(parts[0], through: parts.count > 1 ? parts[1] : nil, field: field)
            return
        }
        if let separator = text.range(of: "..") {
            self = try Self.dayRange(from: String(text[..<separator.lowerBound]), to: String(text[separator.upperBound...]), field: field)
            return
        }
        _ = try CalendarDay.parse(text, field: field)
        self = .day(text)
    }

    /// `2026Q4`: a year 2000–2199 and a quarter 1–4; with `through`, a day inside it.
    public static func quarter(_ text: String, through: String? = nil, field: String = "quarter") throws(KinkoError) -> ReportPeriod {
        let bytes = Array(text.utf8)
        guard bytes.count == 6, bytes[4] == UInt8(ascii: "Q"), let year = Int(String(text.prefix(4))), (2000...2199).contains(year),
            let quarter = Int(String(text.suffix(1))), (1...4).contains(quarter)
        else {
            throw KinkoError(.invalidInput, "a quarter is written YYYYQn (n 1–4, year 2000–2199), such as 2026Q4; got \"\(text.prefix(40))\"", field: field)
        }
        let whole = ReportPeriod.quarter(year: year, quarter: quarter)
        guard let through else { return whole }
        _ = try CalendarDay.parse(through, field: "through")
        guard let (first, last) = whole.days, through >= first, through <= last else {
            throw KinkoError(.invalidInput, "\(through) is not inside \(text)", field: "through")
        }
        return .quarter(year: year, quarter: quarter, through: through == last ? nil : through)
    }

    /// A range of JST days, first and last included, at most `rangeDaysMax` days.
    public static func dayRange(from: String, to: String, field: String = "to") throws(KinkoError) -> ReportPeriod {
        let start = try CalendarDay.epochSeconds(from, field: "from")
        let end = try CalendarDay.epochSeconds(to, field: "to")
        guard start <= end else { throw KinkoError(.invalidInput, "the period ends on or after its first day; got \(from) to \(to)", field: field) }
        let days = (end - start) / 86_400 + 1
        guard days <= Int64(rangeDaysMax) else {
            throw KinkoError(.limitExceeded, "a period covers at most \(rangeDaysMax) days; got \(days)", field: field)
        }
        return .range(from: from, to: to)
    }

    /// The first and last JST day a day, quarter or range covers.
    public var days: (first: String, last: String)? {
        switch self {
        case .day(let day): return (day, day)
        case .quarter(let year, let quarter, let through):
            let firstMonth = (quarter - 1) * 3 + 1
            let lastMonth = firstMonth + 2
            let lastDay = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][lastMonth - 1]
            return (String(format: "%04d-%02d-01", year, firstMonth), through ?? String(format: "%04d-%02d-%02d", year, lastMonth, lastDay))
        case .range(let from, let to): return (from, to)
        case .caseRecord, .incident: return nil
        }
    }

    /// The instant the figures are taken at: the end of the last day in JST, or nil for a
    /// report about one record (a case, an incident), which is as of its record.
    public func asOf() throws(KinkoError) -> TimestampNanoseconds? {
        guard let last = days?.last else { return nil }
        return try TimestampNanoseconds.endOfDayJST(last, field: "period")
    }

    /// Each JST day of the period, in order.
    public func everyDay() throws(KinkoError) -> [String] {
        guard let (first, last) = days else { return [] }
        let start = try CalendarDay.epochSeconds(first, field: "from") / 86_400
        let end = try CalendarDay.epochSeconds(last, field: "to") / 86_400
        return (start...end).map { CalendarDay.text(daysSinceEpoch: $0) }
    }
}

/// A report's content, language-neutral: sections of facts (key → value) and tables (column
/// keys, rows of text). Every value is already text (amounts in the asset's units, times in ISO
/// 8601 UTC), so the canonical bytes — and their SHA-256 — depend on the data alone. Labels in
/// Japanese and English are added only when it is rendered.
public struct ReportDocument: Sendable, Equatable {
    public struct Fact: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public struct Table: Sendable, Equatable {
        public var key: String
        public var columns: [String]
        /// The rows, as text or packed (a large table: its cells in a few byte buffers instead
        /// of an array and strings per row).
        var storage: Storage

        enum Storage: Sendable {
            case strings([[String]])
            case packed(PackedRows)
        }

        public init(_ key: String, columns: [String], rows: [[String]]) {
            self.key = key
            self.columns = columns
            storage = .strings(rows)
        }

        init(_ key: String, columns: [String], packed: PackedRows) {
            self.key = key
            self.columns = columns
            storage = .packed(packed)
        }

        /// Every row as text (a packed table makes them on each read: writers read its cells,
        /// and `rowCount` counts without making them).
        public var rows: [[String]] {
            get {
                switch storage {
                case .strings(let rows): return rows
                case .packed(let packed): return packed.allRows
                }
            }
            set { storage = .strings(newValue) }
        }

        public var rowCount: Int {
            switch storage {
            case .strings(let rows): rows.count
            case .packed(let packed): packed.count
            }
        }

        /// The rows as comma-separated JSON arrays, into `sink` (a packed table's cells are
        /// written from its bytes, not made into strings).
        func writeRowsJSON<Sink: JSONSink>(into sink: inout Sink) {
            switch storage {
            case .strings(let rows): ReportDocument.write(.rows(rows), rows: rows.indices, into: &sink)
            case .packed(let packed):
                for (chunk, first) in zip(packed.chunks, packed.firstRows) { ReportDocument.write(.packed(chunk, firstRow: first), rows: 0..<0, into: &sink) }
            }
        }

        public static func == (a: Table, b: Table) -> Bool {
            a.key == b.key && a.columns == b.columns && a.rowCount == b.rowCount && a.rows == b.rows
        }
    }

    public struct Section: Sendable, Equatable {
        public var key: String
        public var facts: [Fact]
        public var tables: [Table]
        public init(_ key: String, facts: [Fact] = [], tables: [Table] = []) {
            self.key = key
            self.facts = facts
            self.tables = tables
        }
    }

    public var kind: ReportKind {
        didSet { knownSHA256 = nil }
    }
    public var period: ReportPeriod {
        didSet { knownSHA256 = nil }
    }
    /// When the figures were taken (the end of the period, or the record's latest change).
    public var asOf: TimestampNanoseconds {
        didSet { knownSHA256 = nil }
    }
    public var sections: [Section] {
        didSet { knownSHA256 = nil }
    }
    /// The SHA-256 of the canonical bytes once they were hashed (generation hashes them; a
    /// renderer then does not write and hash them again); cleared by any change.
    var knownSHA256: String?

    public static func == (a: ReportDocument, b: ReportDocument) -> Bool {
        a.kind == b.kind && a.period == b.period && a.asOf == b.asOf && a.sections == b.sections
    }

    public init(kind: ReportKind, period: ReportPeriod, asOf: TimestampNanoseconds, sections: [Section]) {
        self.kind = kind
        self.period = period
        self.asOf = asOf
        self.sections = sections
    }

    public static let format = "kinko-report/1"

    /// The canonical bytes: JSON, keys in a fixed order, every value a string, escaped as
    /// `CanonicalJSON` escapes (ASCII only). What is hashed and stored.
    public var canonicalBytes: [UInt8] {
        // The small parts as bytes, each table's rows as rows: assembled into memory of the
        // document's exact size (a CPA pack is 371 MB; growing buffers cost more than writing).
        var pieces: [CanonicalPiece] = []
        var out = JSONOut()
        out.raw("{\"format\":"); out.string(Self.format)
        out.raw(",\"kind\":"); out.string(kind.rawValue)
        out.raw(",\"period\":"); out.string(period.text)
        out.raw(",\"as_of\":"); out.string(asOf.iso8601Nanoseconds)
        out.raw(",\"sections\":[")
        for (index, section) in sections.enumerated() {
            if index > 0 { out.raw(",") }
            out.raw("{\"key\":"); out.string(section.key)
            out.raw(",\"facts\":[")
            for (i, fact) in section.facts.enumerated() {
                out.raw(i == 0 ? "[" : ",["); out.string(fact.key); out.raw(","); out.string(fact.value); out.raw("]")
            }
            out.raw("],\"tables\":[")
            for (i, table) in section.tables.enumerated() {
                if i > 0 { out.raw(",") }
                out.raw("{\"key\":"); out.string(table.key)
                out.raw(",\"columns\":"); out.strings(table.columns)
                out.raw(",\"rows\":[")
                pieces.append(.bytes(out.bytes))
                switch table.storage {
                case .strings(let rows): pieces.append(.rows(rows))
                case .packed(let packed):
                    for (chunk, first) in zip(packed.chunks, packed.firstRows) { pieces.append(.packed(chunk, firstRow: first)) }
                }
                out.bytes = []
                out.raw("]}")
            }
            out.raw("]}")
        }
        out.raw("]}")
        pieces.append(.bytes(out.bytes))
        return Self.assemble(pieces)
    }

    /// A run of a document's canonical bytes: written already, or a table's rows to write.
    enum CanonicalPiece: Sendable {
        case bytes([UInt8])
        case rows([[String]])
        /// A chunk of a packed table, whose first row is `firstRow` of the table.
        case packed(PackedRows.Chunk, firstRow: Int)
    }

    /// The pieces' bytes in order, written once into an array of their exact size: every
    /// table of `parallelFrom` rows or more is split into one part per core, each part's bytes
    /// are counted and then written at its offset, all parts at once. The same bytes as one
    /// pass (a row after a table's first is preceded by a comma, whichever part it is in).
    static func assemble(_ pieces: [CanonicalPiece], parallelFrom: Int = 200_000) -> [UInt8] {
        let cores = min(ProcessInfo.processInfo.activeProcessorCount, 8)
        var split: [(piece: Int, rows: Range<Int>)] = []
        for (index, piece) in pieces.enumerated() {
            guard case .rows(let rows) = piece else {
                // Bytes are one part; a packed chunk is one too (a large table comes in one per core).
                split.append((index, 0..<0))
                continue
            }
            let count = rows.count >= parallelFrom ? max(1, cores) : 1
            let size = max(1, (rows.count + count - 1) / count)
            for part in 0..<count { split.append((index, min(part * size, rows.count)..<min((part + 1) * size, rows.count))) }
        }
        let parts = split
        let counts = Counts(parts.count)
        DispatchQueue.concurrentPerform(iterations: parts.count) { part in
            var counter = JSONByteCounter()
            write(pieces[parts[part].piece], rows: parts[part].rows, into: &counter)
            counts.set(part, counter.count)
        }
        let sizes = counts.all
        let offsets = sizes.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1) }
        let total = offsets[sizes.count]
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            guard let base = buffer.baseAddress else { initialized = 0; return }
            let memory = SharedMemory(base: base)
            DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                var writer = JSONMemoryWriter(base: memory.base + offsets[part], capacity: sizes[part])
                write(pieces[parts[part].piece], rows: parts[part].rows, into: &writer)
                assert(writer.position == sizes[part], "a part wrote other than it counted")
            }
            initialized = total
        }
    }

    /// Writes a piece, or of a table only `rows`, into `sink`.
    static func write<Sink: JSONSink>(_ piece: CanonicalPiece, rows range: Range<Int>, into sink: inout Sink) {
        switch piece {
        case .bytes(let bytes): bytes.withUnsafeBufferPointer { sink.put($0) }
        case .rows(let rows):
            for row in range {
                if row > 0 { sink.put(0x2C) }
                sink.strings(rows[row])
            }
        case .packed(let chunk, let firstRow):
            chunk.withCells { row, cells in
                if firstRow + row > 0 { sink.put(0x2C) }
                sink.strings(utf8: cells)
            }
        }
    }

    /// SHA-256 of the canonical bytes, lower-case hex.
    public var sha256: String { knownSHA256 ?? Self.sha256(of: canonicalBytes) }

    /// The canonical bytes and their SHA-256, computed once and remembered in the document.
    public mutating func hashed() -> (bytes: [UInt8], sha256: String) {
        let bytes = canonicalBytes
        let hash = Self.sha256(of: bytes)
        knownSHA256 = hash
        return (bytes, hash)
    }

    public static func sha256(of bytes: [UInt8]) -> String { Hex.encode(Array(SHA256.hash(data: bytes))) }

    public func section(_ key: String) -> Section? { sections.first { $0.key == key } }
}

extension TimestampNanoseconds {
    /// ISO 8601 UTC to the nanosecond (`2026-12-31T14:59:59.999999999Z`): exact, for report
    /// content, where a millisecond rounding would misstate an as-of instant.
    public var iso8601Nanoseconds: String {
        let seconds = Int64(self / 1_000_000_000)
        let days = seconds / 86_400
        let rest = seconds % 86_400
        return CalendarDay.text(daysSinceEpoch: days)
            + String(format: "T%02d:%02d:%02d.%09dZ", Int(rest / 3_600), Int(rest % 3_600 / 60), Int(rest % 60), Int(self % 1_000_000_000))
    }
}

/// Where JSON goes, byte by byte: appended to an array (`JSONOut`), counted
/// (`JSONByteCounter`), or written into memory sized by the count (`JSONMemoryWriter`). One
/// escaping serves all three, so a count is always what is then written.
protocol JSONSink {
    mutating func put(_ byte: UInt8)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>)
}

extension JSONSink {
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { put($0) }
    }

    mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { put($0) }
    }

    /// A JSON string, escaped as `CanonicalJSON` escapes (quote, backslash and control
    /// characters; non-ASCII as \u escapes).
    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8: $0) }
    }

    /// `string(_:)` of text given as its UTF-8 bytes (a packed table's cell).
    mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        put(0x22)
        // Most values are plain ASCII with nothing to escape: copied as they are.
        if utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E && $0 != 0x22 && $0 != 0x5C }) {
            put(utf8)
        } else {
            for unit in String(decoding: utf8, as: UTF8.self).utf16 {
                switch unit {
                case 0x22: put(0x5C); put(0x22)
                case 0x5C: put(0x5C); put(0x5C)
                case 0x0A: put(0x5C); put(0x6E)
                case 0x0D: put(0x5C); put(0x72)
                case 0x09: put(0x5C); put(0x74)
                case 0x20...0x7E: put(UInt8(unit))
                default:
                    put(0x5C); put(0x75)
                    for shift in stride(from: 12, through: 0, by: -4) { put(Self.hexDigit(Int(unit >> UInt16(shift)) & 0xF)) }
                }
            }
        }
        put(0x22)
    }

    /// A JSON array of a packed row's cells.
    mutating func strings(utf8 cells: [UnsafeBufferPointer<UInt8>]) {
        put(0x5B)
        for (i, cell) in cells.enumerated() {
            if i > 0 { put(0x2C) }
            string(utf8: cell)
        }
        put(0x5D)
    }

    static func hexDigit(_ value: Int) -> UInt8 { value < 10 ? 0x30 + UInt8(value) : 0x57 + UInt8(value) }

    mutating func strings(_ values: [String]) {
        put(0x5B)
        for (i, value) in values.enumerated() {
            if i > 0 { put(0x2C) }
            string(value)
        }
        put(0x5D)
    }
}

/// A JSON writer that appends to one byte buffer.
struct JSONOut: JSONSink {
    var bytes: [UInt8] = []

    mutating func put(_ byte: UInt8) { bytes.append(byte) }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes.append(contentsOf: bytes) }
}

/// Counts the bytes a write would give.
struct JSONByteCounter: JSONSink {
    var count = 0

    mutating func put(_ byte: UInt8) { count += 1 }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) { count += bytes.count }
}

/// Writes into memory of a counted size, never past it (a write that does not fit stops).
struct JSONMemoryWriter: JSONSink {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var position = 0

    mutating func put(_ byte: UInt8) {
        guard position < capacity else { return }
        base[position] = byte
        position += 1
    }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, position + bytes.count <= capacity else { return }
        (base + position).update(from: source, count: bytes.count)
        position += bytes.count
    }
}

extension ReportDocument {
    /// Reads canonical bytes back (a stored report); the result hashes to the same SHA-256.
    public init(canonical bytes: [UInt8]) throws(KinkoError) {
        func corrupt(_ what: String) -> KinkoError { KinkoError(.storageCorrupted, "a stored report does not read: \(what)") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], object["format"] as? String == Self.format,
            let kindText = object["kind"] as? String, let kind = ReportKind(rawValue: kindText), let periodText = object["period"] as? String,
            let asOfText = object["as_of"] as? String, let sections = object["sections"] as? [[String: Any]]
        else { throw corrupt("not a \(Self.format) document") }
        let period = try ReportPeriod(parsing: periodText)
        guard let asOf = TimestampNanoseconds(iso8601Nanoseconds: asOfText) else { throw corrupt("as_of \(asOfText)") }
        var parsed: [Section] = []
        for section in sections {
            guard let key = section["key"] as? String, let facts = section["facts"] as? [[String]], let tables = section["tables"] as? [[String: Any]] else {
                throw corrupt("a section")
            }
            var readTables: [Table] = []
            for table in tables {
                guard let tableKey = table["key"] as? String, let columns = table["columns"] as? [String], let rows = table["rows"] as? [[String]] else {
                    throw corrupt("a table of \(key)")
                }
                readTables.append(Table(tableKey, columns: columns, rows: rows))
            }
            parsed.append(Section(key, facts: facts.compactMap { $0.count == 2 ? Fact($0[0], $0[1]) : nil }, tables: readTables))
        }
        self.init(kind: kind, period: period, asOf: asOf, sections: parsed)
        guard canonicalBytes == bytes else { throw corrupt("it does not write back to the same bytes") }
    }
}

extension TimestampNanoseconds {
    /// Reads `iso8601Nanoseconds` back.
    public init?(iso8601Nanoseconds text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 30, bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "."), bytes[29] == UInt8(ascii: "Z"),
            let seconds = try? CalendarDay.epochSeconds(String(text.prefix(10)), field: "as_of"),
            let hour = Int64(text.dropFirst(11).prefix(2)), let minute = Int64(text.dropFirst(14).prefix(2)), let second = Int64(text.dropFirst(17).prefix(2)),
            let fraction = UInt64(text.dropFirst(20).prefix(9))
        else { return nil }
        self = UInt64(seconds + hour * 3_600 + minute * 60 + second) * 1_000_000_000 + fraction
    }
}

/// The byte counts of a parallel count, one per part, each set by its own worker.
final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int]

    init(_ count: Int) { counts = [Int](repeating: 0, count: count) }

    func set(_ index: Int, _ value: Int) { lock.withLock { counts[index] = value } }

    var all: [Int] { lock.withLock { counts } }
}

/// Memory the parts of a parallel write share, each writing only its own range.
struct SharedMemory: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
}

/// Rows of text packed for size: each chunk holds its cells' UTF-8 bytes in one buffer and where
/// each cell ends, `width` cells a row. A table of millions of rows takes two allocations a
/// chunk instead of an array and a string or more a row (the CPA pack's 5,000,000 balances).
public struct PackedRows: Sendable, Equatable {
    public struct Chunk: Sendable, Equatable {
        var bytes: [UInt8] = []
        /// The end of each cell in `bytes`.
        var ends: [UInt32] = []
        let width: Int

        var count: Int { width == 0 ? 0 : ends.count / width }

        /// Each row's cells, as views of the chunk's bytes.
        func withCells(_ body: (Int, [UnsafeBufferPointer<UInt8>]) throws -> Void) rethrows {
            try bytes.withUnsafeBufferPointer { all in
                var cells: [UnsafeBufferPointer<UInt8>] = []
                cells.reserveCapacity(width)
                var start = 0
                for row in 0..<count {
                    cells.removeAll(keepingCapacity: true)
                    for column in 0..<width {
                        let end = Int(ends[row * width + column])
                        cells.append(UnsafeBufferPointer(rebasing: all[start..<end]))
                        start = end
                    }
                    try body(row, cells)
                }
            }
        }
    }

    public let width: Int
    public internal(set) var chunks: [Chunk] = []
    /// A chunk's bytes stay within this; a row that begins past it begins a new chunk.
    public let chunkBytesMax: Int

    /// `chunkBytesMax` at most `chunkBytesLimit` (a chunk's cell ends are 32-bit).
    public init(width: Int, chunkBytesMax: Int = PackedRows.chunkBytesLimit) {
        self.width = width
        self.chunkBytesMax = min(max(0, chunkBytesMax), Self.chunkBytesLimit)
    }

    /// The chunks of parts packed apart (on several cores), in order.
    public init(joining parts: [PackedRows], width: Int) {
        self.width = width
        chunkBytesMax = parts.first?.chunkBytesMax ?? Self.chunkBytesLimit
        chunks = parts.flatMap(\.chunks).filter { $0.count > 0 }
    }

    public var count: Int { chunks.reduce(0) { $0 + $1.count } }

    /// The table row at which each chunk starts.
    var firstRows: [Int] { chunks.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1.count) }.dropLast() }

    /// The most bytes a chunk may be set to hold before its next row: its cell ends are 32-bit,
    /// and a row past it still fits (a row is far below the 1 MiB of room left).
    public static let chunkBytesLimit = Int(UInt32.max) - (1 << 20)

    /// Appends a row of `width` cells.
    public mutating func append(_ row: [String]) {
        precondition(row.count == width, "a packed row has \(width) cells")
        for cell in row { appendCell(cell) }
    }

    /// Appends the next cell; every `width` cells make a row.
    public mutating func appendCell(_ cell: String) {
        if chunks.isEmpty || (chunks[chunks.count - 1].ends.count % width == 0 && chunks[chunks.count - 1].bytes.count >= chunkBytesMax) {
            chunks.append(Chunk(width: width))
        }
        let last = chunks.count - 1
        var cell = cell
        cell.withUTF8 { chunks[last].bytes.append(contentsOf: $0) }
        chunks[last].ends.append(UInt32(chunks[last].bytes.count))
    }

    /// Room for `rows` rows of about `bytesPerRow` bytes (memory only reserved is not touched).
    public mutating func reserve(rows: Int, bytesPerRow: Int) {
        if chunks.isEmpty { chunks.append(Chunk(width: width)) }
        chunks[chunks.count - 1].bytes.reserveCapacity(min(rows * bytesPerRow, chunkBytesMax))
        chunks[chunks.count - 1].ends.reserveCapacity(rows * width)
    }

    public var allRows: [[String]] {
        var rows: [[String]] = []
        rows.reserveCapacity(count)
        for chunk in chunks {
            chunk.withCells { _, cells in rows.append(cells.map { String(decoding: $0, as: UTF8.self) }) }
        }
        return rows
    }

    /// Row `index` of the table, as text (nil past the end).
    public func row(_ index: Int) -> [String]? {
        guard index >= 0 else { return nil }
        var first = 0
        for chunk in chunks {
            guard index >= first + chunk.count else {
                let row = index - first
                return chunk.bytes.withUnsafeBufferPointer { all in
                    (0..<width).map { column in
                        let cell = row * width + column
                        let start = cell == 0 ? 0 : Int(chunk.ends[cell - 1])
                        return String(decoding: UnsafeBufferPointer(rebasing: all[start..<Int(chunk.ends[cell])]), as: UTF8.self)
                    }
                }
            }
            first += chunk.count
        }
        return nil
    }
}
