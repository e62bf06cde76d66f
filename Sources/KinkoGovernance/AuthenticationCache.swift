public import KinkoCore
import Synchronization

/// Tokens authenticated a moment ago, for the one call that must answer within a millisecond:
/// the matching engine's pre-trade check. Looking a token up in the store is most of that
/// check's time over HTTP, so a token seen less than `lifetime` ago is taken as still valid.
///
/// The price is a delay on revocation for those calls only: a token revoked, or a role taken
/// away, in another process (the CLI, a second server) still passes the pre-trade check for up
/// to `lifetime`; in this process a revocation empties the cache at once. Entries are keyed by
/// the token's hash (the secret is never kept), honour the token's own expiry, and the cache
/// never holds more than `entriesMax` (past it, it starts again empty). Every other operation
/// looks the token up in the store on every request.
public final class AuthenticationCache: Sendable {
    /// How long a token looked up in the store is reused.
    public static let lifetime: Duration = .seconds(1)
    /// Tokens kept at most; one more empties the cache first.
    public static let entriesMax = 10_000

    struct Entry: Sendable {
        let caller: Caller
        let expiresAt: TimestampNanoseconds?
        let seenAt: ContinuousClock.Instant
    }

    private let entries = Mutex<[[UInt8]: Entry]>([:])

    public init() {}

    public var count: Int { entries.withLock { $0.count } }

    func caller(hash: [UInt8], now: TimestampNanoseconds) -> Caller? {
        let instant = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard instant - entry.seenAt < Self.lifetime, entry.expiresAt.map({ now < $0 }) ?? true else {
                entries[hash] = nil
                return nil
            }
            return entry.caller
        }
    }

    func remember(_ caller: Caller, hash: [UInt8], expiresAt: TimestampNanoseconds?) {
        let entry = Entry(caller: caller, expiresAt: expiresAt, seenAt: .now)
        entries.withLock { entries in
            if entries[hash] == nil, entries.count >= Self.entriesMax { entries.removeAll(keepingCapacity: true) }
            entries[hash] = entry
        }
    }

    /// Forgets every token: after a revocation of a token or a role in this process.
    public func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
