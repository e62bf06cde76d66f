public import KinkoCore
public import KinkoGovernance
import Crypto

/// What a batch did. Every state change of the ledger is one numbered batch in the store's log.
public enum LedgerBatchKind: UInt8, Sendable {
    case assets = 1
    case accounts = 2
    case transfers = 3
    /// No events: only the expiry of pending transfers whose timeout passed.
    case pulse = 4
}

/// One batch as stored: the log of the ledger. `body` holds the accepted records in
/// `LedgerCodec`'s layout; `expired` the 16-byte ids of pending transfers that expired at the
/// start of the batch.
public struct LedgerBatchRecord: Sendable, Equatable {
    /// SHA-256 over kind (1 byte), sequence and timestamp (8 bytes each, little-endian), count
    /// (4 bytes), body, expired ids and, when there are any, the failed ids and the account
    /// history (tagged `history` and its length): what the batch's audit entry carries as
    /// request digest (unchanged for batches without failed ids or history).
    public var digest: [UInt8] {
        var hasher = SHA256()
        var header: [UInt8] = [kind.rawValue]
        withUnsafeBytes(of: sequence.littleEndian) { header += $0 }
        withUnsafeBytes(of: timestamp.littleEndian) { header += $0 }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: count).littleEndian) { header += $0 }
        hasher.update(data: header)
        hasher.update(data: body)
        hasher.update(data: expired)
        if !failed.isEmpty { hasher.update(data: failed) }
        if !history.isEmpty {
            // Tagged with its length, so it cannot pass for failed ids.
            var tag: [UInt8] = Array("history".utf8)
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: history.count).littleEndian) { tag += $0 }
            hasher.update(data: tag)
            hasher.update(data: history)
        }
        return Array(hasher.finalize())
    }

    public var sequence: UInt64
    public var kind: LedgerBatchKind
    /// The batch timestamp: the last event's timestamp.
    public var timestamp: TimestampNanoseconds
    public var count: Int
    public var body: [UInt8]
    public var expired: [UInt8]
    /// Ids (16 bytes each) of events that failed for a transient reason in this batch: used up
    /// (`id_already_failed`). Empty in batches stored before 2026-12-04.
    public var failed: [UInt8]
    /// The balances of accounts with the `history` flag after each transfer of the batch that
    /// touched them (`LedgerCodec.encodeHistory`), for `get_account_balances`. Derived (replay
    /// recomputes and compares it); empty in batches stored before 2026-12-04.
    public var history: [UInt8]

    public init(sequence: UInt64, kind: LedgerBatchKind, timestamp: TimestampNanoseconds, count: Int, body: [UInt8], expired: [UInt8],
                failed: [UInt8] = [], history: [UInt8] = []) {
        self.sequence = sequence
        self.kind = kind
        self.timestamp = timestamp
        self.count = count
        self.body = body
        self.expired = expired
        self.failed = failed
        self.history = history
    }
}

/// Balances of up to `LedgerEngine.balancePageAccounts` consecutive accounts (in creation
/// order), encoded by `LedgerCodec.encodeBalances`. Checkpoints rewrite whole pages: a few
/// hundred blobs instead of a row update per account.
public struct BalancePage: Sendable, Equatable {
    public var index: Int
    public var bytes: [UInt8]

    public init(index: Int, bytes: [UInt8]) {
        self.index = index
        self.bytes = bytes
    }
}

/// Balances and pending statuses changed since the previous checkpoint, written in the same
/// transaction as batch `sequence`.
public struct LedgerCheckpointWrite: Sendable {
    public var sequence: UInt64
    public var timestamp: TimestampNanoseconds
    public var balancePages: [BalancePage]
    public var pending: [PendingTransfer]
    /// Postings of the transfers since the writer's last checkpoint, this batch included, by
    /// account id; the store keeps those above its own last checkpoint
    /// (`LedgerPostings.restrict`), as another process may have written one since.
    public var postings: [LedgerPostings.List]
}

/// The state at the store's last checkpoint; the batches after it are replayed on top.
public struct LedgerSnapshot: Sendable {
    /// The assets and accounts batches up to the checkpoint, in order: they define the
    /// accounts and their order (which numbers the balance pages).
    public var definitions: [LedgerBatchRecord]
    public var balancePages: [BalancePage]
    public var activePending: [PendingTransfer]
    public var checkpointSequence: UInt64
    public var checkpointTimestamp: TimestampNanoseconds

    public init(
        definitions: [LedgerBatchRecord],
        balancePages: [BalancePage],
        activePending: [PendingTransfer],
        checkpointSequence: UInt64,
        checkpointTimestamp: TimestampNanoseconds
    ) {
        self.definitions = definitions
        self.balancePages = balancePages
        self.activePending = activePending
        self.checkpointSequence = checkpointSequence
        self.checkpointTimestamp = checkpointTimestamp
    }
}

public enum LedgerAppendOutcome: Sendable, Equatable {
    case appended
    /// Another writer appended first; the store's head is ahead of the expected one.
    case stale(head: UInt64)
}

/// Where the ledger keeps its log and checkpoints. SQLite and PostgreSQL implement it; one
/// contract suite runs against both.
///
/// The log (`ledger_batches`) is the truth; balances, pending statuses and the per-account
/// postings index are checkpoints derived from it and written every few batches.
public protocol LedgerStore: Sendable {
    /// Asset and account definitions, balances and open pending transfers as of the last
    /// checkpoint.
    func loadSnapshot() async throws -> LedgerSnapshot
    /// The sequence number of the last stored batch (zero when empty).
    func headSequence() async throws -> UInt64
    /// The first transfers or pulse batch stamped after `timestamp`, if any: where the balances'
    /// history past that instant begins. (Asset and account batches change no balance, and an
    /// imported account batch is stamped in the past, after live batches.)
    func firstSequence(after timestamp: TimestampNanoseconds) async throws -> UInt64?
    /// Stored batches with sequence numbers above `sequence`, in order, at most `limit`.
    func batches(after sequence: UInt64, limit: Int) async throws -> [LedgerBatchRecord]
    /// Stores one batch durably, atomically with the new accounts or assets it created, an
    /// optional checkpoint and the batch's audit entry, if and only if the store's head is
    /// `record.sequence - 1`.
    func append(
        _ record: LedgerBatchRecord, accounts: [Account], assets: [Asset], checkpoint: LedgerCheckpointWrite?,
        audit: AuditEvent
    ) async throws -> LedgerAppendOutcome
    /// The stored transfers at these locations (missing locations are omitted).
    func transfers(at locations: [TransferLocation]) async throws -> [Transfer]
    /// The checkpointed status of these pending transfers.
    func pendingStatuses(_ ids: [TransferID]) async throws -> [TransferID: PendingStatus]
    /// Locations of the account's transfers up to the last checkpoint, below `before`,
    /// newest first, at most `limit`.
    func postedLocations(account: AccountID, before: TransferLocation, limit: Int) async throws -> [TransferLocation]
}

/// Posted figures as of a moment: totals per ledger and account class, and chosen accounts.
public struct PostedSummary: Sendable {
    /// A class's posted totals over all its accounts, summed exactly: they may exceed what one
    /// account can hold.
    public struct ClassTotal: Sendable, Equatable {
        public var debitsPosted = WideSum()
        public var creditsPosted = WideSum()
        public init(debitsPosted: WideSum = WideSum(), creditsPosted: WideSum = WideSum()) {
            self.debitsPosted = debitsPosted
            self.creditsPosted = creditsPosted
        }
        /// The net in the class's natural direction (zero if on the other side).
        public func net(claim: Bool) -> WideSum {
            (claim ? creditsPosted.minus(debitsPosted) : debitsPosted.minus(creditsPosted)) ?? WideSum()
        }
        /// The net as an amount, or `amount_overflow` naming what does not fit in 128 bits.
        public func netAmount(claim: Bool, what: @autoclosure () -> String) throws(KinkoError) -> Amount {
            let net = net(claim: claim)
            guard let units = net.narrowed else {
                throw KinkoError(.amountOverflow, "\(what()) total \(net) units, more than one amount holds (\(UInt128.max))")
            }
            return Amount(units: units)
        }
    }

    public var totals: [UInt32: [AccountClass: ClassTotal]]
    public var balances: [AccountID: AccountBalance]
}
