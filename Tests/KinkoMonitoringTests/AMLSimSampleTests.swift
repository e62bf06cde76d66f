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

    // Goal: on real data at the default rule set's budget, the detectors find 26 of the 27
    // instances with 26 alerts at account precision 0.9948; time stretched or compressed,
    // amounts scaled, accounts renumbered, twice the background and 10% of ordinary transfers
    // dropped each move instance recall by at most 0.05 (a dropped repeat no longer turns a
    // relationship one-off: its parties' rotation makes it wait past one missed repeat).
    @Test func recallHoldsUnderTransformationsThatKeepTheLaundering() throws {
        let data = try Self.sample()
        #expect(data.transfers.count == 37_164 && data.instances.count == 27)
        let settings = try #require(try defaultRules().network)
        let base = NetworkReport.run(data, settings: settings)
        #expect(base.atBudget.alerts == 26 && base.atBudget.instanceRecall == AMLSimReport.ratio(26, 27) && base.atBudget.accountPrecision == 0.9948)
        let changes = NetworkReport.perturbations(AMLSimPerturbation.standard, of: data, base: base, settings: settings, seed: 1)
        #expect(changes.map(\.name) == ["time:0.5", "time:2.0", "amount:0.2", "amount:5.0", "background:2.0", "renumber", "drop:0.1"])
        for change in changes {
            #expect(abs(change.change) <= 0.05, "\(change.name): recall \(change.instanceRecall), \(change.change) against \(base.atBudget.instanceRecall)")
            #expect(abs(change.precisionChange) <= 0.05,
                    "\(change.name): account precision \(change.accountPrecision), expected \(change.expectedAccountPrecision)")
        }
    }
}
