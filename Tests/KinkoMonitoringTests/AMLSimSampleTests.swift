import Foundation
import KinkoCore
@testable import KinkoMonitoring
import KinkoStores
import Testing

/// The network detectors on real AMLSim data in `swift test`: a seeded sample of amlsim-dev cut
/// by `scripts/amlsim_sample.py ../shared/datasets/amlsim-dev 0.5 … 0.5` — half the planted
/// instances with all their members, half the other accounts, every transfer between the accounts
/// kept, over the whole two years (27 instances, 994 accounts, 37,164 transfers). The full sets
/// run in `kinko monitor backtest --amlsim DIR --perturb standard` (docs/MONITORING.md).
@Suite("Network detectors on a sample of amlsim-dev")
struct AMLSimSampleTests {
    static func sample() throws -> AMLSimData {
        let folder = try #require(Bundle.module.url(forResource: "amlsim-dev-sample", withExtension: nil))
        func text(_ name: String) throws -> String { try InputFile.text(atPath: folder.appendingPathComponent(name).path, field: name) }
        return try AMLSimData(transactions: try text("transactions.csv.gz"), accounts: try text("accounts.csv.gz"), alertAccounts: try text("alert_accounts.csv.gz"))
    }

    // Goal: on real data at the default rule set's budget, the detectors find 25 of the 27
    // instances with 27 alerts; time stretched or compressed, amounts scaled, accounts
    // renumbered and twice the background move instance recall by at most 0.05. Dropping 10% of
    // ordinary transfers still costs 0.185 (a known issue, docs/MONITORING.md): the test fails
    // when that is fixed, so the expectation can be made plain.
    @Test func recallHoldsUnderTransformationsThatKeepTheLaundering() throws {
        let data = try Self.sample()
        #expect(data.transfers.count == 37_164 && data.instances.count == 27)
        let settings = try #require(try defaultRules().network)
        let base = NetworkReport.run(data, settings: settings)
        #expect(base.atBudget.alerts == 27 && base.atBudget.instanceRecall == AMLSimReport.ratio(25, 27))
        let changes = NetworkReport.perturbations(AMLSimPerturbation.standard, of: data, base: base, settings: settings, seed: 1)
        #expect(changes.map(\.name) == ["time:0.5", "time:2.0", "amount:0.2", "amount:5.0", "background:2.0", "renumber", "drop:0.1"])
        for change in changes where change.name != "drop:0.1" {
            #expect(abs(change.change) <= 0.05, "\(change.name): recall \(change.instanceRecall), \(change.change) against \(base.atBudget.instanceRecall)")
        }
        let drop = try #require(changes.last)
        withKnownIssue("dropping 10% of ordinary transfers turns repeating relationships one-off and costs fan recall") {
            #expect(abs(drop.change) <= 0.05, "drop:0.1: \(drop.change)")
        }
    }
}
