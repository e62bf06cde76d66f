import KinkoCore
import KinkoGovernance
import KinkoLedger
import Testing

@Suite("Transfer-control policy")
struct TransferControlPolicyTests {
    // Goal: the built-in policy reads, with every control on and the maker-checker codes the
    // issue names (sweeps, reserve funding, release and draw, guarantee release, write-offs,
    // corrections).
    @Test func builtInPolicyReads() throws {
        let policy = try TransferControlPolicy(yaml: TransferControlPolicy.defaultYAML)
        #expect(policy.version == "2026.1-default")
        #expect(policy.makerCheckerCodes.isSuperset(of: [.segregationSweep, .reserveFunding, .reserveRelease, .reserveDraw, .guaranteeRelease,
                                                         .incidentLoss, .correction]))
        #expect(policy.tradeNeedsCounterLeg && policy.customerAccountsNoOverdraft && policy.depositsScreenedOnly && policy.withdrawalsTwoPhase)
        #expect(policy.approvers(for: .segregationSweep) == [.finance, .treasurer])
        #expect(policy.approvers(for: .quarantineRelease) == [.compliance])
        #expect(policy.approvers(for: .fee) == [.finance, .compliance])
        #expect(policy.approvalExpirySeconds == 72 * 3_600)
        #expect(policy.feeLine(asset: "BTC") == .init(ratePPM: 3000, flatMax: "0.0005"))
        #expect(policy.feeLine(asset: "SOL") == .init(ratePPM: 3000, flatMax: "0"))
    }
}
