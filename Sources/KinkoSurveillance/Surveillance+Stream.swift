import Crypto
import Foundation
public import KinkoCore
public import KinkoGovernance

/// A market-abuse alert as kept: what the detector said, under which rule set, and where it
/// stands in the queue. Its id is a digest of typology, market, accounts and start, so a rescan
/// that finds the same scheme again does not raise it twice.
public struct StoredSurveillanceAlert: Codable, Sendable, Equatable {
    public struct StoredFigure: Codable, Sendable, Equatable {
        public let name: String
        public let value: Double
        public let threshold: Double
    }

    public let id: String
    public let typology: String
    public let market: String
    public let accounts: [String]
    /// Each account's customer id as the stream gave it ("" where the stream named none); nil
    /// on alerts stored before customers were kept.
    public let customers: [String]?
    public let start: Milliseconds
    public let end: Milliseconds
    public let score: Double
    public let explanation: String
    public let figures: [StoredFigure]
    public let orders: [Int64]
    public let trades: [Int64]
    public let ruleSetVersion: String
    public let raisedAt: TimestampNanoseconds
    /// Where the alert stands in monitoring's queue (`open`, `in_case`, `dismissed`, `closed`),
    /// `not_queued` until a scan queued it; read from the queue, never stored with the alert.
    public var status = "not_queued"
    /// The alert's id in monitoring's queue, and its case; read from the queue.
    public var queueAlert: UInt64?
    public var caseID: UInt64?

    /// What is stored: the alert as the scan raised it (its place in the queue is the queue's).
    enum CodingKeys: String, CodingKey {
        case id, typology, market, accounts, customers, start, end, score, explanation, figures, orders, trades, ruleSetVersion, raisedAt
    }

    public static let collection = "surveil.alerts"
    /// Order and trade ids kept on an alert (the first ones; the figures count them all).
    public static let evidenceMax = 500

    public init(_ alert: SurveillanceAlert, dataset: MarketDataset, ruleSetVersion: String, raisedAt: TimestampNanoseconds) {
        typology = alert.typology.rawValue
        market = dataset.markets[alert.market].symbol
        accounts = alert.accounts.map { dataset.accounts.name($0) }
        customers = alert.accounts.map { dataset.info[$0]?.customer ?? "" }
        start = alert.start
        end = alert.end
        let digest = SHA256.hash(data: Data("\(typology)|\(market)|\(accounts.joined(separator: ","))|\(start)".utf8))
        id = digest.prefix(8).map { String(format: "%02x", $0) }.joined()
        score = (alert.score * 1000).rounded() / 1000
        explanation = alert.explanation
        figures = alert.figures.map { StoredFigure(name: $0.name, value: ($0.value * 10_000).rounded() / 10_000, threshold: $0.threshold) }
        orders = Array(alert.orders.prefix(Self.evidenceMax))
        trades = Array(alert.trades.prefix(Self.evidenceMax))
        self.ruleSetVersion = ruleSetVersion
        self.raisedAt = raisedAt
    }
}

/// One ingested batch of the stream, kept whole: the scan rebuilds the data set from the batches.
struct StreamBatch: Codable, Sendable {
    let lines: [StreamLine]
    let by: String
    static let collection = "surveil.batches"
}

public struct StreamIngestResult: Sendable, Equatable {
    public enum Status: String, Sendable { case accepted, rejected }
    public let line: Int
    public let status: Status
    public let record: String?
    public let field: String?
    public let message: String?
}

public struct SurveillanceScanResult: Sendable, Equatable {
    public let orderEvents: Int
    public let trades: Int
    public let ruleSetVersion: String
    public let alerts: Int
    public let raised: [String]
    /// Alerts this scan put into monitoring's alert queue: the surveillance alert's id and the
    /// queue's alert id. An alert a crash kept out of the queue is queued by the next scan.
    public let queued: [QueuedMarketAlert]
}

extension Surveillance {
    /// The most lines one ingest takes.
    public static let linesPerIngestMax = 10_000

    var batches: RecordCollection<StreamBatch> { RecordCollection(StreamBatch.collection, store: governance.store) }
    var markets: RecordCollection<StreamLine> { RecordCollection("surveil.markets", store: governance.store) }
    public var alertRecords: RecordCollection<StoredSurveillanceAlert> { RecordCollection(StoredSurveillanceAlert.collection, store: governance.store) }

    /// Takes NDJSON lines of the stream (markets, accounts, links, orders, trades, announcements,
    /// restricted-list rows). Each line is checked on its own (against the markets known so far
    /// and those earlier in the batch); accepted lines are kept as one batch, rejected ones are
    /// named with their field and stored nowhere.
    public func ingest(ndjson: String, by caller: Caller) async throws -> [StreamIngestResult] {
        let role = try await governance.authorize(caller, .monitorIngest)
        let lines = ndjson.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count <= Self.linesPerIngestMax + 1 else {
            throw KinkoError(.limitExceeded, "at most \(Self.linesPerIngestMax) lines an ingest", field: "body")
        }
        var known = try await markets.all().map(\.value)
        var knownSymbols = Set(known.compactMap(\.cells.first))
        var results: [StreamIngestResult] = []
        var accepted: [StreamLine] = []
        var newMarkets: [StreamLine] = []
        for (index, text) in lines.enumerated() where !text.trimmingCharacters(in: .whitespaces).isEmpty {
            do throws(KinkoError) {
                let line = try StreamLine.parse(text)
                if line.file == "markets", let symbol = line.cells.first, knownSymbols.contains(symbol) {
                    guard known.contains(line) else { throw KinkoError(.conflict, "market \(symbol) is already defined with other increments", field: "market") }
                } else {
                    try line.check(markets: known)
                    if line.file == "markets", let symbol = line.cells.first {
                        known.append(line)
                        knownSymbols.insert(symbol)
                        newMarkets.append(line)
                    }
                }
                accepted.append(line)
                results.append(StreamIngestResult(line: index + 1, status: .accepted, record: line.file, field: nil, message: nil))
            } catch {
                let message = error.message.replacing(#/^[a-z]+ line \d+: /#, with: "")
                results.append(StreamIngestResult(line: index + 1, status: .rejected, record: nil, field: error.field.map { $0.split(separator: ".").last.map(String.init) ?? $0 },
                                                  message: message))
            }
        }
        guard !accepted.isEmpty else { return results }
        let now = governance.clock.now()
        // Time first (batches read back in arrival order), then a random part: two ingests in the same nanosecond both land.
        let key = RecordCollection<StreamBatch>.key(now) + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var writes = [try batches.insert(key, StreamBatch(lines: accepted, by: caller.name))]
        for market in newMarkets { writes.append(try markets.insert(market.cells[0], market)) }
        guard try await governance.store.write(writes, at: now, audit: caller.event(
            .monitorIngest, role: role, digest: [], result: "\(accepted.count) lines",
            details: ["accepted": String(accepted.count), "rejected": String(results.count - accepted.count)]))
        else { throw KinkoError(.conflict, "another ingest wrote at the same moment or defined the same market; send the batch again", field: "body") }
        return results
    }

    /// Runs every detector over the stream kept over the detectors' longest look-back (the rule
    /// set's `history_ms` or the multi-account window, whichever is longer) under the rule set in
    /// force and keeps the alerts not raised before. Like monitoring's network scan, a job to run
    /// every few minutes.
    public func scan(by caller: Caller) async throws -> SurveillanceScanResult {
        let role = try await governance.authorize(caller, .monitorIngest)
        guard let rules = try await ruleSets.current() else {
            throw KinkoError(.notFound, "no surveillance rule set is in force: compliance proposes one (surveil rules propose) and adopts it", field: "rules")
        }
        let now = governance.clock.now()
        // The detectors look back at most this far: older batches cannot change what they find.
        let window = UInt64(max(rules.historyMilliseconds, rules.multiAccount.windowMilliseconds)) * 1_000_000
        let lines = try await batches(since: now > window ? now - window : 0).flatMap(\.lines)
        let dataset = try MarketDataset(lines: lines)
        let alerts = SurveillanceEngine.run(dataset, rules: rules).map { StoredSurveillanceAlert($0, dataset: dataset, ruleSetVersion: rules.version, raisedAt: now) }
        var seen: Set<String> = []
        let unique = alerts.filter { seen.insert($0.id).inserted }
        let known = Set(try await alertRecords.all().map(\.key))
        let fresh = unique.filter { !known.contains($0.id) }
        if !fresh.isEmpty {
            guard try await governance.store.write(try fresh.map { try alertRecords.insert($0.id, $0, tag: $0.typology) }, at: now, audit: caller.event(
                .monitorIngest, role: role, digest: [], result: "\(fresh.count) alerts",
                details: ["alerts": fresh.map(\.id).joined(separator: ","), "rule_set": rules.version]))
            else { throw KinkoError(.conflict, "another scan stored alerts meanwhile; scan again", field: "scan") }
        }
        let queued = try await queue(unique, role: role, by: caller)
        return SurveillanceScanResult(orderEvents: dataset.orders.count, trades: dataset.trades.count, ruleSetVersion: rules.version, alerts: alerts.count,
                                      raised: fresh.map(\.id), queued: queued)
    }

    /// The batches ingested at or after `time` (nanoseconds), in arrival order, page by page.
    func batches(since time: TimestampNanoseconds) async throws -> [StreamBatch] {
        var found: [StreamBatch] = []
        var after: String? = time == 0 ? nil : RecordCollection<StreamBatch>.key(time - 1) + "~"
        while true {
            let page = try await batches.list(after: after)
            found += page.map(\.value)
            guard page.count == RecordLimits.pageMax, let last = page.last else { return found }
            after = last.key
        }
    }

    /// The furthest a page of alerts may start into the list (`alerts(offset:)`).
    public static let alertsOffsetMax = 1_000_000

    /// The alerts kept, newest window first, optionally of one typology and one market, `limit`
    /// from the `offset`-th on.
    public func alerts(typology: String? = nil, market: String? = nil, offset: Int = 0, limit: Int = 100,
                       by caller: Caller) async throws -> [StoredSurveillanceAlert] {
        _ = try await governance.authorize(caller, .monitorRead)
        guard (1...RecordLimits.pageMax).contains(limit) else { throw KinkoError(.invalidInput, "must be 1–\(RecordLimits.pageMax)", field: "limit") }
        guard (0...Self.alertsOffsetMax).contains(offset) else {
            throw KinkoError(.invalidInput, "must be 0–\(Self.alertsOffsetMax)", field: "offset")
        }
        let chosen = try await alertRecords.all(tag: typology).map(\.value).filter { market == nil || $0.market == market }
        return try await withQueueState(Array(chosen.sorted { ($0.start, $0.id) > ($1.start, $1.id) }.dropFirst(offset).prefix(limit)))
    }

    public func alert(_ id: String, by caller: Caller) async throws -> StoredSurveillanceAlert {
        _ = try await governance.authorize(caller, .monitorRead)
        guard let entry = try await alertRecords.get(id) else { throw KinkoError(.notFound, "no surveillance alert \(id)", field: "id") }
        return try await withQueueState([entry.value])[0]
    }
}

/// An announcement as compliance reads it, and whether it was still undisclosed at the reading.
public struct AnnouncementView: Sendable, Equatable {
    public let announcement: String
    public let market: String
    public let kind: String
    public let knownFrom: Milliseconds
    public let publishedAt: Milliseconds
    public let description: String
    public let undisclosed: Bool
}

extension Surveillance {
    /// The announcements in the stream, newest publication first. Who knew what, when: a reading
    /// that shows any announcement not yet published is written to the audit log with the ids it
    /// showed, so the insiders the exchange itself made are on record.
    public func announcements(by caller: Caller) async throws -> [AnnouncementView] {
        let role = try await governance.authorize(caller, .monitorRead)
        let lines = try await batches.all().flatMap(\.value.lines).filter { $0.file == "markets" || $0.file == "announcements" }
        let dataset = try MarketDataset(lines: lines)
        let now = Int64(governance.clock.now() / 1_000_000)
        let views = dataset.announcements.map {
            AnnouncementView(announcement: $0.id, market: dataset.markets[$0.market].symbol, kind: $0.kind.rawValue, knownFrom: $0.knownFrom,
                             publishedAt: $0.publishedAt, description: $0.description, undisclosed: $0.publishedAt > now)
        }.sorted { ($0.publishedAt, $0.announcement) > ($1.publishedAt, $1.announcement) }
        let undisclosed = views.filter(\.undisclosed)
        if !undisclosed.isEmpty {
            try await governance.store.appendAudit(caller.event(
                .monitorRead, role: role, digest: [], result: "read \(undisclosed.count) undisclosed announcements",
                details: ["undisclosed_announcements": undisclosed.map(\.announcement).joined(separator: ","),
                          "markets": Set(undisclosed.map(\.market)).sorted().joined(separator: ",")]))
        }
        return views
    }
}
