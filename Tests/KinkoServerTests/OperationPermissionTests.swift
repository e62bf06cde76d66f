import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KinkoControls
import KinkoGovernance
import KinkoReports
import KinkoStores
@testable import KinkoServer
import Testing

/// The early permission check: every operation is classified, and a caller without an
/// operation's permission is refused with 403 before the body is parsed.
@Suite("HTTP API: permission before parsing", .serialized)
struct OperationPermissionTests {
    /// `(operationId, method, path)` for every operation in openapi.yaml.
    static func operations() throws -> [(id: String, method: HTTPRequest.Method, path: String)] {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/KinkoServer/openapi.yaml")
        var found: [(String, HTTPRequest.Method, String)] = []
        var path = "", method: HTTPRequest.Method?
        for line in try String(contentsOf: spec, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                method = HTTPRequest.Method(String(line.trimmingCharacters(in: .whitespaces).dropLast()).uppercased())
            } else if let range = line.range(of: "operationId: "), let method {
                found.append((String(line[range.upperBound...]), method, path))
            }
        }
        return found
    }

    // Goal: the committed server code is what swift-openapi-generator makes from this contract
    // (scripts/openapi-generate.sh records the contract's SHA-256 when it regenerates).
    @Test func theGeneratedCodeIsTheContracts() throws {
        let server = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/KinkoServer")
        let contract = try Data(contentsOf: server.appendingPathComponent("openapi.yaml"))
        let recorded = try String(contentsOf: server.appendingPathComponent("Generated/openapi.yaml.sha256"), encoding: .utf8)
        #expect(recorded == ReportDocument.sha256(of: Array(contract)) + "  openapi.yaml\n",
                "openapi.yaml changed since Sources/KinkoServer/Generated was made from it: run scripts/openapi-generate.sh")
    }

    // Goal: no operation is forgotten — each is public, needs a named permission, or is
    // decided by the domain from whose thing it is — and the table names only real operations.
    @Test func everyOperationIsClassifiedOnce() throws {
        let ids = try Self.operations().map(\.id)
        #expect(ids.count == 132)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let homes = [OperationPermissions.required[id] != nil, OperationPermissions.decidedByDomain.contains(id),
                         OperationMiddleware.publicOperations.contains(id)].filter { $0 }.count
            #expect(homes == 1, "\(id) is classified \(homes) times")
        }
        #expect(Set(OperationPermissions.required.keys).subtracting(ids).isEmpty)
        #expect(OperationPermissions.decidedByDomain.subtracting(ids).isEmpty)
    }

    // Goal: for every operation and every role without its permission, a malformed body is
    // answered 403 (never 400, which would tell an outsider what the endpoint accepts, nor a
    // parse of what they may not send), and each refusal is audited.
    @Test func refusesBeforeParsing() async throws {
        // Hundreds of refusals in a row: above the refusal limit, which has its own test.
        let f = try await ServerFixture(refusals: try RefusalLimiter.Settings(refusalsPerWindowMax: 10_000, windowSeconds: 60))
        let operations = try Self.operations().filter { OperationPermissions.required[$0.id] != nil }
        let auditBefore = try await f.services.stores.governance.auditSize()
        let app = try f.app()
        let (refused, wrong) = try await app.test(.router) { client in
            var refused = 0
            var wrong: [String] = []
            for operation in operations {
                let permission = try #require(OperationPermissions.required[operation.id])
                let uri = operation.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "1", options: .regularExpression)
                for role in Role.allCases where !PermissionTable.standard.allows(role, permission) {
                    let token = try #require(f.tokens[role])
                    let status = try await client.execute(uri: uri, method: operation.method, headers: ServerFixture.headers(token),
                                                          body: ByteBuffer(string: "{ not json")) { $0.status }
                    if status == .forbidden { refused += 1 } else { wrong.append("\(operation.id) as \(role.rawValue): \(status.code)") }
                }
            }
            return (refused, wrong)
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(20))")
        #expect(refused > 400)
        #expect(try await f.services.stores.governance.auditSize() == auditBefore + refused)
    }
}
