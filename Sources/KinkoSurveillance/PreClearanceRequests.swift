import Foundation
public import KinkoCore
public import KinkoGovernance

/// An employee's request to trade a market in a window, and compliance's decision on it. An
/// approved request is a pre-clearance the pre-trade check honours (within a second of the
/// approval), beside those written into the insider list itself.
public struct PreClearanceRequest: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case pending, approved, denied
    }

    public let id: UInt64
    public let account: String
    public let market: String
    /// `buy` or `sell`.
    public let side: String
    public let from: Milliseconds
    public let to: Milliseconds
    public let reason: String
    public let requestedBy: String
    public let requestedByPrincipal: String
    public let requestedAt: TimestampNanoseconds
    public var status: Status
    public var decidedBy: String?
    public var decidedAt: TimestampNanoseconds?
    public var decisionNote: String?

    public static let collection = "surveil.preclearances"
    /// The longest window one request may ask for (5 days).
    public static let windowMax: Milliseconds = 5 * 86_400_000
    /// The longest reason or decision note.
    public static let textLengthMax = 500
    /// Requests waiting for a decision at once; one more is refused until compliance decides some.
    public static let pendingMax = 1_000

    /// The pre-clearance an approved request grants.
    public var clearance: PreClearance? {
        guard status == .approved, let side = OrderSide(rawValue: side) else { return nil }
        return PreClearance(account: account, market: market, side: side, from: from, to: to, approvedBy: decidedBy ?? "")
    }

    public var json: [String: Any] {
        ["id": id, "account": account, "market": market, "side": side, "from": from, "to": to, "reason": reason, "requested_by": requestedBy,
         "requested_at": requestedAt.iso8601, "status": status.rawValue, "decided_by": decidedBy ?? NSNull(),
         "decided_at": decidedAt.map { $0.iso8601 as Any } ?? NSNull(), "decision_note": decisionNote ?? NSNull()]
    }
}

extension Surveillance {
    var preClearanceRecords: RecordCollection<PreClearanceRequest> { RecordCollection(PreClearanceRequest.collection, store: governance.store) }

    static func text(_ value: String, field: String) throws(KinkoError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= PreClearanceRequest.textLengthMax else {
            throw KinkoError(.invalidInput, "is 1–\(PreClearanceRequest.textLengthMax) characters", field: field)
        }
        return trimmed
    }

    /// An employee asks to trade `market` on `side` from `from` to `to` (ms). The account must be
    /// staff on the insider list in force (only staff need pre-clearance); the window at most
    /// `PreClearanceRequest.windowMax` and not over yet.
    public func requestPreClearance(account: String, market: String, side: String, from: Milliseconds, to: Milliseconds, reason: String,
                                    by caller: Caller) async throws -> PreClearanceRequest {
        let digest = Governance.digest(["account": .string(account), "market": .string(market), "side": .string(side),
                                        "from": .string(String(from)), "to": .string(String(to))])
        let role = try await governance.authorize(caller, .surveilPreClearanceRequest, digest: digest)
        try Self.check(account: account, market: market)
        guard OrderSide(rawValue: side) != nil else { throw KinkoError(.invalidInput, "must be buy or sell", field: "side") }
        let reason = try Self.text(reason, field: "reason")
        let now = governance.clock.now()
        let nowMilliseconds = Milliseconds(now / 1_000_000)
        for (value, field) in [(from, "from"), (to, "to")] where !(0...MarketDataset.timeMax).contains(value) {
            throw KinkoError(.invalidInput, "\(value) is not a time: ms since the epoch, 0–\(MarketDataset.timeMax)", field: field)
        }
        guard from < to else { throw KinkoError(.invalidInput, "must be after from", field: "to") }
        guard to - from <= PreClearanceRequest.windowMax else {
            throw KinkoError(.limitExceeded, "a pre-clearance window is at most \(PreClearanceRequest.windowMax / 3_600_000) hours", field: "to")
        }
        guard to > nowMilliseconds else { throw KinkoError(.invalidInput, "the window is over already", field: "to") }
        guard let stored = try await insiderLists.currentVersion() else {
            throw KinkoError(.notFound, "no insider list is in force: compliance adopts one first", field: "insiders")
        }
        let list = try InsiderList(yaml: stored.document)
        guard list.staff.contains(account) else {
            throw KinkoError(.invalidInput, "\(account) is not staff on insider list \(stored.version): only staff trades need pre-clearance", field: "account")
        }
        let existing = try await preClearanceRecords.all()
        guard existing.filter({ $0.value.status == .pending }).count < PreClearanceRequest.pendingMax else {
            throw KinkoError(.limitExceeded, "\(PreClearanceRequest.pendingMax) pre-clearance requests already wait for a decision", field: "pending")
        }
        let id = (existing.map(\.value.id).max() ?? 0) + 1
        let request = PreClearanceRequest(id: id, account: account, market: market, side: side, from: from, to: to, reason: reason,
                                          requestedBy: caller.name, requestedByPrincipal: caller.principal.description, requestedAt: now, status: .pending)
        guard try await governance.store.write(
            [try preClearanceRecords.insert(RecordCollection<PreClearanceRequest>.key(id), request, tag: PreClearanceRequest.Status.pending.rawValue)], at: now,
            audit: caller.event(.surveilPreClearanceRequest, role: role, digest: digest, result: "requested",
                                details: ["request": String(id), "account": account, "market": market, "side": side]))
        else { throw KinkoError(.conflict, "another request took number \(id) meanwhile; ask again", field: "id") }
        return request
    }

    /// Compliance approves or denies a pending request (a denial says why). Nobody decides their
    /// own request; an approval is refused when the market is in blackout, or the account is
    /// restricted, at any time in the window (a pre-clearance cannot lift either), or when the
    /// window is over.
    public func decidePreClearance(_ id: UInt64, approve: Bool, note: String?, by caller: Caller) async throws -> PreClearanceRequest {
        let digest = Governance.digest(["request": .string(String(id)), "approve": .string(approve ? "approve" : "deny")])
        let role = try await governance.authorize(caller, .surveilPreClearanceDecide, digest: digest)
        guard let entry = try await preClearanceRecords.get(RecordCollection<PreClearanceRequest>.key(id)) else {
            throw KinkoError(.notFound, "no pre-clearance request \(id)", field: "id")
        }
        var request = entry.value
        guard request.status == .pending else { throw KinkoError(.conflict, "request \(id) is \(request.status.rawValue) already", field: "id") }
        guard request.requestedByPrincipal != caller.principal.description else {
            throw try await governance.refused(KinkoError(.forbidden, "who asks for a pre-clearance must not decide it", field: "id"), by: caller, role: role,
                                               .surveilPreClearanceDecide, digest: digest, details: ["request": String(id)])
        }
        let note = try note.map { try Self.text($0, field: "note") }
        guard approve || note != nil else { throw KinkoError(.invalidInput, "a denial says why", field: "note") }
        let now = governance.clock.now()
        if approve {
            guard request.to > Milliseconds(now / 1_000_000) else { throw KinkoError(.conflict, "request \(id)'s window is over", field: "id") }
            if let stored = try await insiderLists.currentVersion() {
                let list = try InsiderList(yaml: stored.document)
                if let blackout = list.blackouts.first(where: { $0.market == request.market && $0.from <= request.to && request.from <= $0.to }) {
                    throw KinkoError(.conflict, "\(request.market) is in blackout in the window (\(blackout.reason)): a pre-clearance cannot lift it", field: "id")
                }
                if let entry = list.restricted.first(where: { $0.account == request.account && $0.market == request.market && $0.from <= request.to && request.from <= $0.to }) {
                    throw KinkoError(.conflict, "\(request.account) is restricted in \(request.market) in the window (\(entry.reason))", field: "id")
                }
            }
        }
        request.status = approve ? .approved : .denied
        request.decidedBy = caller.name
        request.decidedAt = now
        request.decisionNote = note
        guard try await governance.store.write(
            [try preClearanceRecords.update(entry, to: request, tag: request.status.rawValue)], at: now,
            audit: caller.event(.surveilPreClearanceDecide, role: role, digest: digest, result: request.status.rawValue,
                                details: ["request": String(id), "account": request.account, "market": request.market, "requested_by": request.requestedBy]))
        else { throw KinkoError(.conflict, "request \(id) was decided meanwhile", field: "id") }
        return request
    }

    /// Pre-clearance requests, newest first, optionally of one status: compliance, auditors and
    /// inspectors see every request; anyone else their own.
    public func preClearanceRequests(status: PreClearanceRequest.Status? = nil, by caller: Caller) async throws -> [PreClearanceRequest] {
        let all = (try? caller.role(for: .monitorRead, table: governance.permissions)) != nil
        if !all { _ = try await governance.authorize(caller, .surveilPreClearanceRequest) }
        return try await preClearanceRecords.all(tag: status?.rawValue).map(\.value)
            .filter { all || $0.requestedByPrincipal == caller.principal.description }
            .sorted { $0.id > $1.id }
    }

    /// The approved pre-clearances whose window is not over at `now` (ms).
    func approvedPreClearances(at now: Milliseconds) async throws -> [PreClearance] {
        try await preClearanceRecords.all(tag: PreClearanceRequest.Status.approved.rawValue).compactMap { $0.value.to >= now ? $0.value.clearance : nil }
    }
}
