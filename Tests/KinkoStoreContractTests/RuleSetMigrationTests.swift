import Foundation
import GRDB
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import KinkoPostgres
import KinkoReserve
import KinkoStores
import Testing

/// Rule sets moved from `reserve_rule_sets` / `monitor_rule_sets` into governance settings
/// (migration "2026-12-02 rule sets as settings"): a database written before keeps every
/// version, its status, request, proposer and adoption time.
@Suite struct RuleSetMigrationTests {
    static let migration = "2026-12-02 rule sets as settings"
    static let adoptedAt: UInt64 = 1_800_000_000_500_000_000

    /// The tables as the earlier migrations made them, one legacy row adopted and one proposed,
    /// and the migration marked not applied, so that the next open runs it on these rows.
    static func legacyStatements(_ backend: Backend, request: ApprovalRequestID) -> [String] {
        let yaml = { (version: String) in RuleSet.defaultYAML.replacingOccurrences(of: "version: \"2026.1-default\"", with: "version: \"\(version)\"")
            .replacingOccurrences(of: "'", with: "''") }
        let (timeColumn, marker) = backend == .sqlite ? ("adopted_at", "DELETE FROM grdb_migrations WHERE identifier = '\(migration)'")
                                                      : ("adopted_ns", "DELETE FROM kinko_migrations WHERE name = '\(migration)'")
        let table = { (name: String) in
            "CREATE TABLE \(name) (version text PRIMARY KEY, yaml text NOT NULL, status text NOT NULL, request bigint NOT NULL, \(timeColumn) bigint)"
        }
        return [
            table("reserve_rule_sets"), table("monitor_rule_sets"),
            "INSERT INTO reserve_rule_sets VALUES ('legacy-a', '\(yaml("legacy-a"))', 'adopted', \(request), \(adoptedAt))",
            "INSERT INTO reserve_rule_sets VALUES ('legacy-b', '\(yaml("legacy-b"))', 'proposed', \(request), NULL)",
            marker,
        ]
    }

    @Test(arguments: Backend.configured) func legacyRuleSetsBecomeSettings(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let f = try await GovernanceFixture(harness)
            let (finance, _) = try await f.person("tanaka.finance", [.finance])
            let (_, request) = try await AdoptedDocuments<RuleSet>(governance: f.governance).propose(yaml: RuleSet.defaultYAML, by: finance)
            let statements = Self.legacyStatements(backend, request: request.id)
            switch backend {
            case .sqlite:
                let queue = try DatabaseQueue(path: harness.sqlitePath)
                try await queue.write { db in for statement in statements { try db.execute(sql: statement) } }
            case .postgres:
                for statement in statements { try await KinkoPostgresDatabase.execute(url: try #require(harness.postgresURL), statement) }
            }

            let reopened = try await f.reopened()
            let governance = Governance(store: reopened.governance, clock: f.clock)
            let ruleSets = AdoptedDocuments<RuleSet>(governance: governance)
            let versions = try await ruleSets.versions(by: finance)
            #expect(versions.map(\.version) == ["2026.1-default", "legacy-a", "legacy-b"])
            #expect(versions.map(\.status) == [.proposed, .adopted, .proposed])
            #expect(versions.allSatisfy { $0.requestID == request.id.description && $0.proposedBy == finance.principal.description })
            #expect(versions.allSatisfy { $0.proposedAt == request.createdAt })
            #expect(versions[1].adoptedAt == Self.adoptedAt && versions[2].adoptedAt == nil)
            #expect(try await ruleSets.current()?.version == "legacy-a")
            #expect(try await ruleSets.current()?.trailingDays == RuleSet(yaml: RuleSet.defaultYAML).trailingDays)
            #expect(try await reopened.appliedMigrations().contains(Self.migration))
        }
    }
}
