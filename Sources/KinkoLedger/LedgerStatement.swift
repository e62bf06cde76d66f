public import KinkoCore
public import KinkoGovernance

/// A customer's statement for a period: per account, the posted balance at the start, every
/// posted movement in between (oldest first, with the balance after it) and the balance at the
/// end. Opening plus movements equals closing, to the unit, or the statement is refused as a
/// storage fault.
public struct CustomerStatement: Sendable {
    public enum Side: String, Sendable { case debit, credit }

    public struct Movement: Sendable {
        public var location: TransferLocation
        public var transfer: Transfer
        public var side: Side
        /// The account's posted balance after this movement.
        public var after: AccountBalance
    }

    public struct Section: Sendable {
        public var account: Account
        public var asset: Asset
        public var opening: AccountBalance
        public var movements: [Movement]
        public var closing: AccountBalance
    }

    public var owner: UInt128
    /// Balances are as of `from` (exclusive of later transfers) and as of `to` (inclusive).
    public var from: TimestampNanoseconds
    public var to: TimestampNanoseconds
    public var sections: [Section]

    /// Movements one statement lists at most (all accounts together); a longer period is asked
    /// for in parts.
    public static let movementsMax = 100_000
}

extension LedgerService {
    public func statement(owner: UInt128, from: TimestampNanoseconds, to: TimestampNanoseconds, by caller: Caller) async throws -> CustomerStatement {
        _ = try await governance.authorize(caller, .ledgerRead)
        guard owner != 0 else { throw KinkoError(.invalidInput, "a statement is for one customer; owner 0 is the exchange", field: "customer") }
        try TimestampNanoseconds.checkAccepted(from, field: "from")
        try TimestampNanoseconds.checkAccepted(to, field: "to")
        guard from < to else { throw KinkoError(.invalidInput, "the period ends after it starts; got from \(from.iso8601), to \(to.iso8601)", field: "to") }
        try await ledger.refresh()
        let assets = Dictionary(uniqueKeysWithValues: await ledger.assets.map { ($0.ledger, $0) })
        let opening = Dictionary(uniqueKeysWithValues: try await ledger.postedBalances(asOf: from) { $0.owner == owner }.map { ($0.account.id, $0.balance) })
        let closing = try await ledger.postedBalances(asOf: to) { $0.owner == owner }.sorted { $0.account.id < $1.account.id }
        let ceiling = try await ledger.location(asOf: to)
        var sections: [CustomerStatement.Section] = []
        var listed = 0
        for (account, end) in closing {
            guard let asset = assets[account.ledger] else { throw KinkoError(.storageCorrupted, "account \(account.id) is on ledger \(account.ledger), which has no asset") }
            var newestFirst: [(location: TransferLocation, transfer: Transfer)] = []
            var before = ceiling
            paging: while true {
                let page = try await ledger.history(of: account.id, before: before, limit: ledger.limits.historyPageSizeMax)
                for entry in page.transfers {
                    if entry.transfer.timestamp <= from { break paging }
                    guard !entry.transfer.flags.contains(.pending), !entry.transfer.flags.contains(.voidPendingTransfer) else { continue }
                    newestFirst.append(entry)
                    listed += 1
                    guard listed <= CustomerStatement.movementsMax else {
                        throw KinkoError(.limitExceeded, "a statement lists at most \(CustomerStatement.movementsMax) movements; ask for a shorter period", field: "from")
                    }
                }
                guard let next = page.next else { break }
                before = next
            }
            let start = opening[account.id] ?? .zero
            var running = start
            var movements: [CustomerStatement.Movement] = []
            for (location, transfer) in newestFirst.reversed() {
                let side: CustomerStatement.Side = transfer.debitAccountID == account.id ? .debit : .credit
                let (sum, overflow) = side == .debit ? running.debitsPosted.addingReportingOverflow(transfer.amount)
                    : running.creditsPosted.addingReportingOverflow(transfer.amount)
                guard !overflow else { throw KinkoError(.storageCorrupted, "account \(account.id)'s movements sum past its balance") }
                if side == .debit { running.debitsPosted = sum } else { running.creditsPosted = sum }
                movements.append(CustomerStatement.Movement(location: location, transfer: transfer, side: side, after: running))
            }
            guard running == end else {
                throw KinkoError(.storageCorrupted, "account \(account.id): opening balance plus the period's movements does not equal the closing balance")
            }
            sections.append(CustomerStatement.Section(account: account, asset: asset, opening: start, movements: movements, closing: end))
        }
        return CustomerStatement(owner: owner, from: from, to: to, sections: sections)
    }
}
