import Foundation
import Hummingbird
import KinkoCore
import KinkoGovernance

/// The audit log in the console: the log's verification, its entries newest first with filters
/// and paging, and one entry with its inclusion proof against the latest signed checkpoint,
/// recomputed by the browser (audit-proof.js) rather than taken on the server's word.
extension Console {
    /// Rows a page of the audit log shows at most.
    static let auditPageRows = 50
    /// Entries one page reads at most while looking for rows that match its filters (older ones
    /// are behind the page's "older" link).
    static let auditScanMax = 10_000
    /// The longest filter value, in characters.
    static let auditFilterLengthMax = 100
    static let auditScriptPath = "/console/static/audit-proof.js"

    func registerAudit(on router: Router<BasicRequestContext>) {
        router.get("/console/audit") { request, _ in try await self.page(request) { try await self.audit($0, query: request.uri.queryParameters) } }
        router.get("/console/audit/entry") { request, _ in
            try await self.page(request) { try await self.auditEntry($0, n: request.uri.queryParameters.get("n") ?? "") }
        }
        router.get(RouterPath(stringLiteral: Self.auditScriptPath)) { _, _ in Self.script(ConsoleScript.auditProof) }
    }

    /// The log's verification and a page of its entries, newest first: those before `before`
    /// (default: the whole log) whose action, principal and result contain the filters' text.
    func audit(_ caller: Caller, query: Parameters) async throws -> (template: String, context: [String: Any]) {
        var filters: [String: String] = [:]
        for name in ["action", "principal", "result"] {
            let value = (query.get(name) ?? "").trimmingCharacters(in: .whitespaces)
            guard value.count <= Self.auditFilterLengthMax else {
                throw KinkoError(.invalidInput, "at most \(Self.auditFilterLengthMax) characters", field: name)
            }
            if !value.isEmpty { filters[name] = value }
        }
        let report = try await AuditStatus.verify(services, by: caller)
        let size = report.entries
        let before = try query.get("before").map { try KinkoAPI.int($0, field: "before", in: 0...size) } ?? size
        var rows: [[String: Any]] = []
        var position = before
        let chunk = 500
        while position > 0, rows.count < Self.auditPageRows, before - position < Self.auditScanMax {
            let start = max(0, position - chunk)
            let entries = try await services.governance.auditEntries(from: start, limit: position - start, by: caller).entries
            for stored in entries.reversed() {
                position = stored.position
                let entry = try AuditEntry(bytes: stored.bytes)
                let event = entry.event
                if let action = filters["action"], event.action.range(of: action, options: .caseInsensitive) == nil { continue }
                if let principal = filters["principal"], event.principalName.range(of: principal, options: .caseInsensitive) == nil { continue }
                if let result = filters["result"], event.result.range(of: result, options: .caseInsensitive) == nil { continue }
                let details = event.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                rows.append(["index": entry.index, "time": Self.jst(entry.time), "principal": event.principalName, "role": event.role, "action": event.action,
                             "result": event.result, "details": details.count > 200 ? String(details.prefix(200)) + "…" : details])
                if rows.count == Self.auditPageRows { break }
            }
            if entries.isEmpty { break }
        }
        func link(before: Int?) -> String {
            var items = filters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            if let before { items.append(URLQueryItem(name: "before", value: String(before))) }
            var components = URLComponents()
            components.path = "/console/audit"
            components.queryItems = items.isEmpty ? nil : items
            return components.string ?? "/console/audit"
        }
        return ("audit", [
            "valid": report.isValid, "entries": report.entries, "checkpoints": report.checkpoints, "root": Hex.encode(report.root),
            "problems": report.problems.prefix(10).map(\.message),
            "action": filters["action"] ?? "", "principal": filters["principal"] ?? "", "result": filters["result"] ?? "",
            "rows": rows, "hasRows": !rows.isEmpty, "scannedFrom": position, "scannedTo": max(position, before - 1),
            "older": position > 0 ? link(before: position) : false, "newest": before < size ? link(before: nil) : false,
        ])
    }

    /// One entry, its fields, and its inclusion proof against the latest signed checkpoint that
    /// covers it, with the data the browser needs to recompute the root.
    func auditEntry(_ caller: Caller, n: String) async throws -> (template: String, context: [String: Any]) {
        let index = try KinkoAPI.int(n, field: "n", in: 0...Int.max)
        let (size, entries) = try await services.governance.auditEntries(from: index, limit: 1, by: caller)
        guard size > 0 else { throw KinkoError(.notFound, "the audit log is empty", field: "n") }
        guard let stored = entries.first else { throw KinkoError(.invalidInput, "must be 0–\(size - 1)", field: "n") }
        let entry = try AuditEntry(bytes: stored.bytes)
        let event = entry.event
        var context: [String: Any] = [
            "index": index, "time": Self.jst(entry.time), "principal": event.principalName, "principalID": event.principal.description, "role": event.role,
            "action": event.action, "result": event.result, "digest": Hex.encode(event.requestDigest),
            "details": event.details.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] },
        ]
        let checkpoints = try await services.governance.checkpoints(by: caller)
        guard let checkpoint = checkpoints.last(where: { $0.size > index }) else {
            context["proof"] = false
            context["latestCheckpoint"] = checkpoints.last.map { Self.both("最新のチェックポイントは \($0.size) 件まで", "the latest checkpoint covers \($0.size) entries") }
                ?? Self.both("チェックポイントはまだありません", "no checkpoint yet")
            return ("auditEntry", context)
        }
        guard case .object(let proof) = try await services.governance.inclusionProof(entry: index, size: checkpoint.size, by: caller),
              case .array(let hashes)? = proof["proof"], case .string(let leaf)? = proof["leaf_hash"] else {
            throw KinkoError(.internalError, "the inclusion proof has an unexpected shape")
        }
        let path = hashes.compactMap { if case .string(let hash) = $0 { hash } else { nil } }
        let verified: Bool
        do {
            verified = try await AuditStatus.verify(services, by: caller).isValid
        } catch let error as KinkoError where error.code == .conflict {
            verified = false  // this server holds no key it may trust
        }
        context["proof"] = [
            "size": checkpoint.size, "checkpointTime": Self.jst(checkpoint.time), "keyID": Hex.encode(checkpoint.keyID), "root": Hex.encode(checkpoint.root),
            "checkpointsVerified": verified, "leafHash": leaf, "path": path, "pathLength": path.count, "pathJoined": path.joined(separator: ","),
            "entryHex": Hex.encode(stored.bytes), "script": Self.auditScriptPath,
        ] as [String: Any]
        return ("auditEntry", context)
    }
}
