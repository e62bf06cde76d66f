import KinkoCore
@testable import KinkoGovernance
import KinkoLedger
import Testing

/// A ledger over an in-memory store with a hand-moved clock, the standard assets and a few
/// accounts on the BTC ledger (2):
/// - 1, 2: customers (liabilities, debits must not exceed credits), owners 101, 102
/// - 10: customer hot wallet holding (credits must not exceed debits)
/// - 20: own funds, 21: own holding
struct Fixture {
    static let btc: UInt32 = 2
    let store: InMemoryLedgerStore
    let clock: ManualWallClock
    let ledger: Ledger

    static let start: TimestampNanoseconds = 1_790_000_000_000_000_000

    init(checkpointEvery: UInt64 = 64, store: InMemoryLedgerStore = InMemoryLedgerStore()) async throws {
        self.store = store
        clock = ManualWallClock(Self.start)
        var limits = Ledger.Limits()
        limits.checkpointIntervalBatches = checkpointEvery
        ledger = try await Ledger.open(store: store, clock: clock, limits: limits)
        try await ledger.registerAssets(Asset.standard)
        let results = try await ledger.createAccounts([
            Self.customer(1, owner: 101), Self.customer(2, owner: 102),
            Account(id: AccountID(10), ledger: Self.btc, code: 200, accountClass: .customerCustodyHolding, flags: .creditsMustNotExceedDebits),
            Account(id: AccountID(20), ledger: Self.btc, code: 300, accountClass: .ownFunds),
            Account(id: AccountID(21), ledger: Self.btc, code: 301, accountClass: .ownHolding),
        ])
        #expect(results.allSatisfy { $0 == .ok }, "fixture accounts: \(results)")
    }

    static func customer(_ id: UInt128, owner: UInt128, ledger: UInt32 = btc) -> Account {
        Account(id: AccountID(id), ledger: ledger, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: owner)
    }

    static func transfer(
        _ id: UInt128, _ debit: UInt128, _ credit: UInt128, _ amount: UInt128, code: TransferCode = .trade,
        flags: TransferFlags = [], pendingID: UInt128 = 0, timeout: UInt32 = 0, ledger: UInt32 = btc
    ) -> Transfer {
        Transfer(
            id: TransferID(id), debitAccountID: AccountID(debit), creditAccountID: AccountID(credit), amount: amount,
            ledger: ledger, code: code, flags: flags, pendingID: TransferID(pendingID), timeoutSeconds: timeout)
    }

    /// Deposits `amount` for customer `customer` from the hot wallet (10).
    func deposit(_ id: UInt128, customer: UInt128, _ amount: UInt128) async throws {
        let results = try await ledger.createTransfers([Self.transfer(id, 10, customer, amount, code: .deposit)])
        #expect(results == [.ok])
    }

    func balance(_ id: UInt128) async throws -> AccountBalance {
        try #require(await ledger.account(AccountID(id))).balance
    }
}

/// The tests act as one principal holding every role the ledger asks for.
let testCaller = Caller(principal: Principal(
    id: PrincipalID(1), name: "test", kind: .client, roles: [.admin, .operator, .treasurer, .finance], createdAt: 0))

extension Ledger {
    func registerAssets(_ assets: [Asset]) async throws { try await registerAssets(assets, by: testCaller) }
    func createAccounts(_ events: [Account]) async throws -> [CreateAccountResult] { try await createAccounts(events, by: testCaller) }
    func createTransfers(_ events: [Transfer]) async throws -> [CreateTransferResult] { try await createTransfers(events, by: testCaller) }
    @discardableResult
    func pulse() async throws -> [TransferID] { try await pulse(by: testCaller) }
}
