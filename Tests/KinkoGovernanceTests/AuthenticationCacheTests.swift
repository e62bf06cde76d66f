@testable import KinkoGovernance
import Testing

@Suite("Reused authentication")
struct AuthenticationCacheTests {
    // Goal: the cache holds at most `entriesMax` tokens: at the limit a token already held is
    // refreshed in place, one more new token starts it again empty (with that token alone).
    @Test func holdsAtMostEntriesMax() {
        let cache = AuthenticationCache()
        func hash(_ n: Int) -> [UInt8] { [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff)] }
        for n in 0..<AuthenticationCache.entriesMax { cache.remember(.system, hash: hash(n), expiresAt: nil) }
        #expect(cache.count == 10_000)
        cache.remember(.system, hash: hash(0), expiresAt: nil)
        #expect(cache.count == 10_000 && cache.caller(hash: hash(9_999), now: 0) == .system)
        cache.remember(.system, hash: hash(10_000), expiresAt: nil)
        #expect(cache.count == 1 && cache.caller(hash: hash(10_000), now: 0) == .system && cache.caller(hash: hash(0), now: 0) == nil)
        // A token past its expiry is not returned, and is dropped.
        cache.remember(.system, hash: hash(1), expiresAt: 100)
        #expect(cache.caller(hash: hash(1), now: 99) == .system && cache.caller(hash: hash(1), now: 100) == nil && cache.count == 1)
        cache.removeAll()
        #expect(cache.count == 0)
    }
}
