import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KinkoCore
import KinkoGovernance

/// The console's server-side sessions (issue 14, item 9: the cookie used to be the API token
/// itself, and signing out did not end it). Signing in with a token opens a session: the
/// browser holds only a random session id (`kinko_session`, HttpOnly, SameSite=Strict, Secure
/// when served over TLS); the server keeps the token it was opened with, in memory, and checks
/// it again on every request (a revoked or expired token ends the session). Signing out, the
/// idle limit and the absolute lifetime end a session; so does a restart of the server. Each
/// session has a CSRF token that every form and console call must carry.
final class ConsoleSessions: @unchecked Sendable {
    struct Session {
        let token: String
        let csrf: String
        let opened: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
    }

    static let cookie = "kinko_session"
    /// Session ids are Kinko secrets in shape (`kinko_s_…`), so the log redaction masks them.
    static let idPrefix = "kinko_s_"
    /// Hours a session lasts however busy it is.
    static let lifetimeHours = 12
    /// Sessions open at once; the oldest is ended to make room.
    static let sessionsMax = 10_000

    let idleMinutes: Int
    private let lock = NSLock()
    /// By SHA-256 of the session id: the ids themselves are not kept.
    private var sessions: [String: Session] = [:]

    init(idleMinutes: Int) { self.idleMinutes = idleMinutes }

    private static func key(_ id: String) -> String { Hex.encode(Array(SHA256.hash(data: Array(id.utf8)))) }

    /// Opens a session for `token`; returns its id (for the cookie) and CSRF token.
    func open(token: String) -> (id: String, csrf: String) {
        let id = Self.idPrefix + TokenSecret.randomHex(bytes: 32), csrf = TokenSecret.randomHex(bytes: 32)
        let now = ContinuousClock.now
        lock.withLock {
            if sessions.count >= Self.sessionsMax, let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                sessions[oldest] = nil
            }
            sessions[Self.key(id)] = Session(token: token, csrf: csrf, opened: now, lastSeen: now)
        }
        return (id, csrf)
    }

    /// The live session of `id`, its last use moved to now; nil (and forgotten) when it ended.
    func session(_ id: String) -> Session? {
        let key = Self.key(id), now = ContinuousClock.now
        return lock.withLock {
            guard var session = sessions[key] else { return nil }
            guard now - session.lastSeen < .seconds(idleMinutes * 60), now - session.opened < .seconds(Self.lifetimeHours * 3_600) else {
                sessions[key] = nil
                return nil
            }
            session.lastSeen = now
            sessions[key] = session
            return session
        }
    }

    func close(_ id: String) {
        lock.withLock { sessions[Self.key(id)] = nil }
    }

    /// The session id in the request's cookie (Hummingbird's cookie parsing).
    static func id(from request: Request) -> String? {
        request.cookies[cookie]?.value
    }

    /// Whether two secrets are equal, in time independent of where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension ConsoleSettings {
    /// Whether cookies for `request` carry `Secure`.
    func secure(_ request: Request) -> Bool {
        switch secureCookies {
        case .always: true
        case .never: false
        case .auto: trustForwardedProto && request.headers[HTTPField.Name.forwardedProto]?.lowercased() == "https"
        }
    }

    /// The `Set-Cookie` value of the session cookie: HttpOnly, SameSite=Strict, path `/`,
    /// Secure when `secure(request)`.
    func cookie(_ value: String, request: Request, maxAge: Int? = nil) -> String {
        Cookie(name: ConsoleSessions.cookie, value: value, maxAge: maxAge, path: "/", secure: secure(request), httpOnly: true, sameSite: .strict)
            .description
    }

    /// Whether a POST comes from this console: its `Origin` names this host (over http or
    /// https). A POST without an Origin is refused: every browser that runs the console sends one.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin], let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }
}
