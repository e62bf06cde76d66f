import Foundation
import HTTPTypes
public import Hummingbird
import KinkoControls
import KinkoCore
import KinkoGovernance
import OpenAPIRuntime

/// An RFC 9457 problem document: what every error response of the API looks like.
struct Problem: Sendable {
    var status: HTTPResponse.Status
    var code: String
    var detail: String
    var field: String?
    /// Seconds for `Retry-After` (429; a 503 uses `retryAfterSeconds`).
    var retryAfter: Int?
    /// What a page shows: the field first, when there is one (`action: at most 100 characters`).
    var fieldAndDetail: String { field.map { "\($0): \(detail)" } ?? detail }

    static func status(for code: KinkoError.Code) -> HTTPResponse.Status {
        switch code {
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound, .assetNotFound: .notFound
        case .conflict, .approvalRequired, .approvalRefused: .conflict
        case .movementRefused: .unprocessableContent
        case .storageCorrupted, .storageFailure, .internalError: .internalServerError
        case .storageUnavailable: .serviceUnavailable
        case .rateLimited: .tooManyRequests
        case .ledgerRefused: .unprocessableContent
        default: .badRequest
        }
    }

    /// Seconds a client waits before retrying when the database is unavailable (503).
    static let retryAfterSeconds = 2

    init(status: HTTPResponse.Status, code: String, detail: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
    }

    init(_ error: KinkoError) {
        self.init(status: Self.status(for: error.code), code: error.code.rawValue, detail: error.message, field: error.field)
        retryAfter = error.retryAfterSeconds
    }

    /// Any error a handler or the framework throws, as a problem. Internal failures do not leak
    /// their text (it goes to the log).
    init(_ error: any Error) {
        switch error {
        case let error as KinkoError:
            self.init(error)
        case let error as ServerError:
            if let inner = error.underlyingError as? KinkoError {
                self.init(inner)
            } else if error.underlyingError is DecodingError || String(describing: type(of: error.underlyingError)).contains("RuntimeError") {
                self.init(status: .badRequest, code: "invalid_input", detail: Self.describe(error.underlyingError))
            } else {
                self.init(error.underlyingError)
            }
        case let error as HTTPError:
            self.init(status: error.status, code: error.status == .contentTooLarge ? "body_too_large" : "http_\(error.status.code)",
                      detail: error.body ?? error.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, code: "internal_error", detail: "the server failed; the request id is in the log")
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "\((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is required"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            // An empty path is a path or query parameter, or a body that is one value.
            return (path.isEmpty ? "a parameter or the body is not of the type the spec gives" : path) + ": " + context.debugDescription
        default:
            return String(describing: error).prefix(300).description
        }
    }

    var title: String { status.reasonPhrase }

    func json(requestID: String?) -> [String: Any] {
        var object: [String: Any] = ["type": "https://kinko.example/problems/\(code)", "title": title, "status": status.code, "code": code, "detail": detail]
        if let field { object["field"] = field }
        if let requestID { object["request_id"] = requestID }
        return object
    }

    func jsonData(requestID: String?) -> Data {
        (try? JSONSerialization.data(withJSONObject: json(requestID: requestID), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    func response(requestID: String?) -> Response {
        let data = jsonData(requestID: requestID)
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if let requestID { headers[.requestID] = requestID }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter {
            headers[.retryAfter] = String(retryAfter)
        } else if status == .serviceUnavailable {
            headers[.retryAfter] = String(Self.retryAfterSeconds)
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
