import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KinkoCore
import KinkoGovernance
@testable import KinkoServer
import Testing
import Yams

/// The fuzz target of issue 14: every operation of openapi.yaml, each of its time, date,
/// amount, id, number and string fields (path, query and body) in turn set to an extreme value
/// while the rest of the request is plausible, sent as a role allowed to call it. No answer may
/// be a 5xx, and the server must keep answering. After that deterministic pass, requests with
/// two or three fields extreme at once, chosen by a seeded generator (`KINKO_FUZZ_SEED`, printed),
/// until `KINKO_FUZZ_SECONDS` (default 20; `.ci/run` gives 120) have passed since the start (the
/// deterministic pass always runs to its end). It reports how many requests it sent.
@Suite("Fuzz: extreme values in every field of every operation", .serialized)
struct FuzzTests {
    static let times = ["9999-12-31T23:59:59Z", "2600-01-01T00:00:00Z", "2262-04-11T23:47:17Z", "2555-01-01T00:00:00Z", "18446744073709551615",
                        "18446744073709551616", "0", "-1", "1969-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "", "2026-11-30T00:00:00+99:99"]
    static let days = ["9999-12-31", "2600-01-01", "2026-02-30", "0000-00-00", "1969-12-31", "2026-13-01", "", "2026-11-30\u{0}"]
    static let amounts = ["340282366920938463463374607431768211456", "340282366920938463463374607431768211455", "-1", "1e400", "NaN",
                          "0." + String(repeating: "0", count: 90) + "1", "99999999999999999999999999999999999999999.9", "", "0"]
    static let ids = ["0", "340282366920938463463374607431768211455", "340282366920938463463374607431768211456", "-1", "18446744073709551616", "%00"]
    static let strings = ["\u{0}", String(repeating: "A", count: 70_000), "<script>alert(1)</script>", "../../etc/passwd", String(repeating: "🀄️", count: 500),
                          " ", "'; DROP TABLE records; --", "\u{202E}evil", "a\u{0}b"]
    static var integers: [Any] { [Int.max, Int.min, -1, 0, 4_294_967_296, 1e308] }

    struct Operation {
        let id: String
        let method: HTTPRequest.Method
        let path: String
        let parameters: [[String: Any]]
        let body: [String: Any]?
        let contentType: String?
    }

    static func load() throws -> (operations: [Operation], schemas: [String: Any]) {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/KinkoServer/openapi.yaml")
        let document = try #require(try Yams.load(yaml: try String(contentsOf: url, encoding: .utf8)) as? [String: Any])
        let components = document["components"] as? [String: Any] ?? [:]
        let schemas = components["schemas"] as? [String: Any] ?? [:]
        var operations: [Operation] = []
        for (path, item) in (document["paths"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (method, value) in (item as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let operation = value as? [String: Any], let id = operation["operationId"] as? String,
                    let httpMethod = HTTPRequest.Method(method.uppercased()) else { continue }
                let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any]
                let json = (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
                let contentType = json != nil ? "application/json" : content?.keys.sorted().first
                operations.append(Operation(id: id, method: httpMethod, path: path, parameters: operation["parameters"] as? [[String: Any]] ?? [],
                                            body: json, contentType: contentType))
            }
        }
        return (operations, schemas)
    }

    enum Kind { case time, day, amount, id, integer, string, other }

    static func kind(of name: String, schema: [String: Any], schemas: [String: Any]) -> Kind {
        let resolved = resolve(schema, schemas)
        if (schema["$ref"] as? String)?.hasSuffix("/ID") == true { return .id }
        let type = resolved["type"] as? String
        if type == "integer" || type == "number" { return .integer }
        guard type == "string" else { return .other }
        let lower = name.lowercased()
        if lower == "day" || lower == "starts" || lower == "ends" { return .day }
        if lower.hasSuffix("_at") || lower == "time" { return .time }
        if ["amount", "price", "limit", "deductible", "fee", "amount_jpy", "funded", "required"].contains(lower) { return .amount }
        if lower == "id" || lower.hasSuffix("_id") || lower == "account" || lower == "request" || lower == "wallet_account" { return .id }
        return .string
    }

    static func resolve(_ schema: [String: Any], _ schemas: [String: Any]) -> [String: Any] {
        guard let reference = schema["$ref"] as? String, let name = reference.split(separator: "/").last else { return schema }
        return resolve(schemas[String(name)] as? [String: Any] ?? [:], schemas)
    }

    /// A plausible value for a field: the request should get as far as this field's check.
    static func plausible(_ name: String, _ schema: [String: Any], _ schemas: [String: Any], depth: Int = 0) -> Any {
        let resolved = resolve(schema, schemas)
        if let values = resolved["enum"] as? [Any], let first = values.first { return first }
        switch resolved["type"] as? String {
        case "integer", "number": return 1
        case "boolean": return false
        case "array":
            guard depth < 4 else { return [] as [Any] }
            return [plausible(name, resolved["items"] as? [String: Any] ?? [:], schemas, depth: depth + 1)]
        case "object":
            guard depth < 4 else { return [String: Any]() }
            var object: [String: Any] = [:]
            for (key, property) in resolved["properties"] as? [String: Any] ?? [:] {
                object[key] = plausible(key, property as? [String: Any] ?? [:], schemas, depth: depth + 1)
            }
            if object.isEmpty, resolved["additionalProperties"] != nil { object["BTC"] = "1" }
            return object
        default:
            switch kind(of: name, schema: schema, schemas: schemas) {
            case .time: return "2026-11-30T00:00:00Z"
            case .day: return "2026-11-29"
            case .amount: return "1"
            case .id: return "11"
            default:
                if name == "asset" { return "BTC" }
                if name == "code" { return "trade" }
                return "x"
            }
        }
    }

    static func extremes(_ kind: Kind) -> [Any] {
        switch kind {
        case .time: times
        case .day: days
        case .amount: amounts
        case .id: ids
        case .integer: integers
        case .string: strings
        case .other: []
        }
    }

    /// Every (field path, extreme) of a body: top-level fields and those one array or object down.
    static func mutations(of body: Any, schema: [String: Any], schemas: [String: Any], prefix: [String] = []) -> [([String], Any)] {
        let resolved = resolve(schema, schemas)
        var found: [([String], Any)] = []
        for (key, property) in (resolved["properties"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            let propertySchema = property as? [String: Any] ?? [:]
            let path = prefix + [key]
            for value in extremes(kind(of: key, schema: propertySchema, schemas: schemas)) { found.append((path, value)) }
            let inner = resolve(propertySchema, schemas)
            if inner["type"] as? String == "array", let items = inner["items"] as? [String: Any], prefix.count < 2 {
                found += mutations(of: body, schema: items, schemas: schemas, prefix: path + ["0"])
            } else if inner["type"] as? String == "object", prefix.count < 2 {
                found += mutations(of: body, schema: inner, schemas: schemas, prefix: path)
            }
        }
        return found
    }

    static func setting(_ value: Any, at path: [String], in body: Any) -> Any {
        guard let head = path.first else { return value }
        if var array = body as? [Any], let index = Int(head), index < array.count {
            array[index] = setting(value, at: Array(path.dropFirst()), in: array[index])
            return array
        }
        var object = body as? [String: Any] ?? [:]
        object[head] = setting(value, at: Array(path.dropFirst()), in: object[head] ?? [String: Any]())
        return object
    }

    static let roleOrder: [Role] = [.admin, .operator, .treasurer, .finance, .compliance, .signer, .auditor, .inspector, .administrator]

    static func role(for operation: String) -> Role? {
        if OperationMiddleware.publicOperations.contains(operation) { return nil }
        guard let permission = OperationPermissions.required[operation] else { return .admin }
        return roleOrder.first { PermissionTable.standard.allows($0, permission) }
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    // Goal: no extreme value in any field of any operation gets a 5xx or stops the server.
    @Test func noFieldOfAnyOperationBreaksTheServer() async throws {
        let f = try await ServerFixture()
        try await f.adoptMonitoring()
        let operationCount = try Self.load().operations.count
        let budget = Double(ProcessInfo.processInfo.environment["KINKO_FUZZ_SECONDS"] ?? "") ?? 20
        let seed = UInt64(ProcessInfo.processInfo.environment["KINKO_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)
        print("fuzz: seed \(seed) (KINKO_FUZZ_SEED), budget \(budget) s (KINKO_FUZZ_SECONDS)")
        let started = ContinuousClock.now
        let app = try f.app()
        let (sent, failures, opsTried) = try await app.test(.router) { client in
            let (operations, schemas) = try Self.load()
            var sent = 0
            var failures: [String] = []
            var tried: Set<String> = []
            var combinable: [(operation: Operation, path: String, query: String, body: Any, mutations: [([String], Any)])] = []
            func send(_ operation: Operation, path: String, query: String, body: Any?, what: String) async throws {
                var headers = HTTPFields()
                if let role = Self.role(for: operation.id), let token = f.tokens[role] { headers[.authorization] = "Bearer \(token)" }
                var buffer: ByteBuffer?
                if let body, let contentType = operation.contentType {
                    headers[.contentType] = contentType
                    if contentType == "application/json" {
                        buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
                    } else {
                        buffer = ByteBuffer(string: (body as? String) ?? "x")
                    }
                }
                let uri = path + (query.isEmpty ? "" : "?" + query)
                let status = try await client.execute(uri: uri, method: operation.method, headers: headers, body: buffer) { $0.status }
                sent += 1
                tried.insert(operation.id)
                if status.code >= 500 { failures.append("\(operation.id) \(what): \(status.code)") }
            }
            for operation in operations {
                let parameters = operation.parameters.map { Self.resolve($0, [:]) }
                var pathValues: [String: String] = [:], queryValues: [String: String] = [:]
                for parameter in parameters {
                    guard let name = parameter["name"] as? String else { continue }
                    let value = "\(Self.plausible(name, parameter["schema"] as? [String: Any] ?? [:], schemas))"
                    if parameter["in"] as? String == "path" { pathValues[name] = value } else if parameter["in"] as? String == "query" { queryValues[name] = value }
                }
                func render(_ pathValues: [String: String], _ queryValues: [String: String]) -> (String, String) {
                    var path = operation.path
                    for (name, value) in pathValues { path = path.replacingOccurrences(of: "{\(name)}", with: Self.percentEncoded(value)) }
                    let query = queryValues.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.percentEncoded($0.value))" }.joined(separator: "&")
                    return (path, query)
                }
                let baseBody: Any? = operation.body.map { Self.plausible("body", $0, schemas) }
                    ?? (operation.contentType == "application/x-ndjson"
                        ? #"{"id":"fuzz-1","kind":"deposit","customer":1,"time":"2026-11-30T00:00:00Z","asset":"BTC","amount":"1","amount_jpy":100}"# : nil)
                let (basePath, baseQuery) = render(pathValues, queryValues)
                try await send(operation, path: basePath, query: baseQuery, body: baseBody, what: "plausible")
                for parameter in parameters {
                    guard let name = parameter["name"] as? String, let location = parameter["in"] as? String else { continue }
                    for value in Self.extremes(Self.kind(of: name, schema: parameter["schema"] as? [String: Any] ?? [:], schemas: schemas)) {
                        var p = pathValues, q = queryValues
                        if location == "path" { p[name] = "\(value)" } else { q[name] = "\(value)" }
                        let (path, query) = render(p, q)
                        try await send(operation, path: path, query: query, body: baseBody, what: "\(location) \(name)=\("\(value)".prefix(40))")
                    }
                }
                if let schema = operation.body, let body = baseBody {
                    let mutations = Self.mutations(of: body, schema: schema, schemas: schemas)
                    if mutations.count >= 2 { combinable.append((operation, basePath, baseQuery, body, mutations)) }
                    for (fieldPath, value) in mutations {
                        try await send(operation, path: basePath, query: baseQuery, body: Self.setting(value, at: fieldPath, in: body),
                                       what: "\(fieldPath.joined(separator: "."))=\("\(value)".prefix(40))")
                    }
                } else if operation.contentType == "application/x-ndjson" {
                    for (field, values) in [("time", Self.times), ("amount", Self.amounts), ("id", Self.strings), ("customer", Self.ids)] {
                        for value in values {
                            let line = #"{"id":"fuzz-2","kind":"withdrawal","customer":1,"time":"2026-11-30T00:00:00Z","asset":"BTC","amount":"1","amount_jpy":100,"address":"bc1q"}"#
                            var object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                            object[field] = value
                            let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
                            try await send(operation, path: basePath, query: baseQuery, body: text, what: "ndjson \(field)=\("\(value)".prefix(40))")
                        }
                    }
                }
            }
            // Then several fields extreme at once, at random (reproducible from the seed).
            var generator = SplitMix64(seed: seed)
            while !combinable.isEmpty, ContinuousClock.now - started < .seconds(budget) {
                let target = combinable[Int(generator.next() % UInt64(combinable.count))]
                var body = target.body
                var what: [String] = []
                for _ in 0..<(2 + Int(generator.next() % 2)) {
                    let (fieldPath, value) = target.mutations[Int(generator.next() % UInt64(target.mutations.count))]
                    body = Self.setting(value, at: fieldPath, in: body)
                    what.append("\(fieldPath.joined(separator: "."))=\("\(value)".prefix(24))")
                }
                try await send(target.operation, path: target.path, query: target.query, body: body, what: "seed \(seed): " + what.joined(separator: " "))
            }
            let alive = try await client.execute(uri: "/healthz", method: .get) { $0.status }
            if alive != .ok { failures.append("/healthz answered \(alive.code) after the run") }
            return (sent, failures, tried)
        }
        print("fuzz: \(sent) requests over \(opsTried.count) of \(operationCount) operations in \((ContinuousClock.now - started).components.seconds) s")
        #expect(failures.isEmpty, "\(failures.prefix(40).joined(separator: "\n"))")
        #expect(opsTried.count == operationCount, "only \(opsTried.count) operations were tried")
        #expect(sent > 1_500)
    }
}

