import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoStores
import Testing

/// Issue 14, item 7: a write that fails leaves nothing behind, and a state transition checks
/// the current state in the transaction that changes it. Each test replays an attack that left
/// an orphan or let two contradictory changes both succeed.
@Suite("All or nothing, on every database", .serialized)
struct AllOrNothingTests {
    private func openRequests(_ w: ControlWorld) async throws -> [ApprovalRequest] {
        try await w.governance.requests(status: .open, limit: nil, by: w.f.staff.admins[0].caller)
    }

    // Attack: ask to whitelist an address already on the list, once and then eight times at
    // once. Each ask answered 409 and left an open approval request behind.
    @Test(arguments: Backend.configured) func whitelistingAListedAddressFilesNothing(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let before = try await openRequests(w)
            let entries = try await w.x.custody.whitelist(by: w.treasury.caller)
            let single = await #expect(throws: KinkoError.self) {
                _ = try await w.x.custody.requestWhitelist(asset: "BTC", address: ControlWorld.whitelisted, label: "again", by: w.treasury.caller)
            }
            #expect(single?.code == .conflict && single?.field == "address")
            // Eight concurrent asks for a new address: one is filed, seven refused, no orphan.
            let address = "bc1qconcurrent0ask0address"
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for n in 0..<8 {
                    group.addTask {
                        (try? await w.x.custody.requestWhitelist(asset: "BTC", address: address, label: "ask \(n)", by: w.treasury.caller)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            let after = try await openRequests(w)
            #expect(after.count == before.count + 1)
            let filed = try #require(after.first { request in !before.contains { $0.id == request.id } })
            let listed = try await w.x.custody.whitelist(by: w.treasury.caller)
            #expect(listed.count == entries.count + 1)
            #expect(listed.last?.address == address && listed.last?.requestID == filed.id && filed.action == Custody.whitelistAction)
        }
    }

    // Attack: a NUL (or any control character, or a space) in the address answered 500 and
    // left an open request. Now 400 naming the field, and nothing filed.
    @Test(arguments: Backend.configured) func aControlCharacterInAnAddressIsRefusedBeforeAnythingIsFiled(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let before = try await openRequests(w)
            for address in ["bc1q\u{0}nul", "bc1q tab", "bc1q\u{7F}del", "bc1qé", "", String(repeating: "a", count: WhitelistEntry.addressLengthMax + 1)] {
                let refused = await #expect(throws: KinkoError.self) {
                    _ = try await w.x.custody.requestWhitelist(asset: "BTC", address: address, label: "x", by: w.treasury.caller)
                }
                #expect(refused?.code == .invalidInput && refused?.field == "address", "\(address.debugDescription)")
            }
            let longLabel = await #expect(throws: KinkoError.self) {
                _ = try await w.x.custody.requestWhitelist(asset: "BTC", address: "bc1qok", label: String(repeating: "l", count: WhitelistEntry.labelLengthMax + 1),
                                                           by: w.treasury.caller)
            }
            #expect(longLabel?.field == "label")
            // At the limits: the longest address and label are accepted.
            let longest = String(repeating: "a", count: WhitelistEntry.addressLengthMax)
            let entry = try await w.x.custody.requestWhitelist(asset: "BTC", address: longest, label: String(repeating: "l", count: WhitelistEntry.labelLengthMax),
                                                               by: w.treasury.caller)
            #expect(entry.address == longest)
            #expect(try await openRequests(w).count == before.count + 1)
        }
    }

    // Attack: a wallet registration that failed with 409 (its ledger account existed with
    // other properties) kept the wallet record, and the custody check then reported a wallet
    // without its account. Duplicate assets or addresses tripped a UNIQUE constraint (500).
    @Test(arguments: Backend.configured) func aRefusedWalletRegistrationLeavesNoWallet(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let wallets = try await w.x.custody.wallets(by: w.treasury.caller)
            // Someone opened a customer account under the id the new wallet's account would have.
            let squatted = Wallet.accountID(wallet: "eth-hot", asset: "ETH")
            #expect(try await w.x.ledger.createAccounts([Account(id: squatted, ledger: 3, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: 9)],
                                                        by: w.ops.caller) == [.ok])
            let wallet = Wallet(id: "eth-hot", chain: "ethereum", temperature: .hot, purpose: .customerPool, assets: ["ETH"], vendor: "acme", vendorVersion: "1")
            let conflict = await #expect(throws: KinkoError.self) { _ = try await w.x.custody.registerWallet(wallet, by: w.treasury.caller) }
            #expect(conflict?.code == .conflict)
            #expect(try await w.x.custody.wallets(by: w.treasury.caller).map(\.id) == wallets.map(\.id))
            let feeAccount = await w.x.engine.account(Custody.feeAccountID(asset: "ETH"))
            #expect(feeAccount == nil, "the fee account was not opened either")

            var twice = wallet
            twice.id = "eth-cold"
            twice.assets = ["ETH", "ETH"]
            let assets = await #expect(throws: KinkoError.self) { _ = try await w.x.custody.registerWallet(twice, by: w.treasury.caller) }
            #expect(assets?.code == .invalidInput && assets?.field == "assets")
            twice.assets = ["ETH"]
            twice.addresses = ["0xabc", "0xdef", "0xabc"]
            let addresses = await #expect(throws: KinkoError.self) { _ = try await w.x.custody.registerWallet(twice, by: w.treasury.caller) }
            #expect(addresses?.code == .invalidInput && addresses?.field == "addresses")
            twice.addresses = ["0xabc", "0x\u{0}"]
            let nul = await #expect(throws: KinkoError.self) { _ = try await w.x.custody.registerWallet(twice, by: w.treasury.caller) }
            #expect(nul?.field == "addresses[1]")
            #expect(try await w.x.custody.wallets(by: w.treasury.caller).map(\.id) == wallets.map(\.id))

            // The same wallet, well formed, registers; registering it again is a 409 naming the id.
            twice.addresses = ["0xabc", "0xdef"]
            _ = try await w.x.custody.registerWallet(twice, by: w.treasury.caller)
            let again = await #expect(throws: KinkoError.self) { _ = try await w.x.custody.registerWallet(twice, by: w.treasury.caller) }
            #expect(again?.code == .conflict && again?.field == "id")
            #expect(try await w.x.custody.wallets(by: w.treasury.caller).count == wallets.count + 1)
        }
    }

    // Attack: dismissing an alert and opening a case on it at the same moment both succeeded.
    // Now exactly one wins, every time.
    @Test(arguments: Backend.configured) func dismissingAndOpeningACaseAtOnceLetsOneWin(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            for round in 0..<6 {
                let line = #"{"id":"race\#(round)","kind":"deposit","customer":1,"time":"2026-11-22T02:00:0\#(round)Z","asset":"XMR","amount_jpy":10000,"address":"4race\#(round)"}"#
                let results = try await w.x.monitoring.ingest(ndjson: line, by: w.ops.caller)
                let id = try #require(results.first?.alert)
                #expect(results.first?.outcome == .review)
                async let dismissed = try? await w.x.monitoring.dismiss(id, reason: "own wallet", by: w.compliance.caller)
                async let opened = try? await w.x.monitoring.openCase(title: "race \(round)", alerts: [id], assignee: nil, by: w.compliance2.caller)
                let (d, o) = await (dismissed, opened)
                #expect((d != nil) != (o != nil), "round \(round): exactly one of dismiss and open-case succeeds")
                let alert = try await w.x.monitoring.alert(id, by: w.compliance.caller)
                #expect(alert.status == (d != nil ? .dismissed : .inCase))
            }
        }
    }
}
