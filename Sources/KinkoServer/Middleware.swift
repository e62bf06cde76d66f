import Foundation
import HTTPTypes
import Hummingbird
import KinkoCore
import KinkoGovernance
import Logging
import NIOCore
import NIOHTTP1
import OpenAPIRuntime

/// Outermost: gives every request an id, caps the body, turns every error into an RFC 9457
/// problem, and logs one line per request (never a token or a body).
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let incoming = request.headers[.requestID]
        let requestID = incoming.flatMap { $0.count <= 64 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } ? $0 : nil }
            ?? UUID().uuidString.lowercased()
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await RequestScope.$requestID.withValue(requestID) {
                var request = request
                if request.method == .post || request.method == .put || request.method == .patch {
                    if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
                        throw HTTPError(.contentTooLarge, message: "the body is \(length) bytes; at most \(maxBodyBytes) are accepted")
                    }
                    do {
                        _ = try await request.collectBody(upTo: maxBodyBytes)
                    } catch where (error as? HTTPError)?.status == .contentTooLarge || error is NIOTooManyBytesError {
                        // (A chunked body has no Content-Length: it is cut off when it passes the cap.)
                        throw HTTPError(.contentTooLarge, message: "the body is over \(maxBodyBytes) bytes")
                    } catch is HTTPParserError {
                        // The connection ended (or broke HTTP framing) before the body did.
                        throw KinkoError(.bodyIncomplete, "the body ended before its Content-Length (or its last chunk)", field: "body")
                    }
                }
                return try await next(request, context)
            }
        } catch {
            let problem = Problem(error)
            if problem.status == .internalServerError {
                logger.error("request failed", metadata: ["request_id": "\(requestID)", "error": "\(LogRedaction.describe(error))"])
            }
            response = problem.response(requestID: requestID)
        }
        response.headers[.requestID] = requestID
        let elapsed = ContinuousClock.now - started
        logger.info("\(request.method.rawValue) \(request.uri.path) \(response.status.code)", metadata: [
            "request_id": "\(requestID)", "ms": "\(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000))",
        ])
        return response
    }
}

/// Per operation: authenticates the bearer token (except for the public probes), refuses a
/// caller without the operation's permission before its body is parsed (`OperationPermissions`),
/// and records request counts and latency.
struct OperationMiddleware: ServerMiddleware {
    /// No bearer token: the probes, and redeeming an enrolment (its code is the credential).
    static let publicOperations: Set<String> = ["health", "ready", "metrics", "redeemEnrolment"]
    /// Operations that reuse a token authenticated less than a second ago instead of looking it
    /// up again (`AuthenticationCache`): only the pre-trade check, which must answer within a
    /// millisecond and moves nothing.
    static let reusedAuthenticationOperations: Set<String> = ["preTradeCheck"]
    let governance: Governance
    let metrics: RequestMetrics

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let started = ContinuousClock.now
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - started
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        do {
            let result: (HTTPResponse, HTTPBody?)
            if Self.publicOperations.contains(operationID) {
                result = try await next(request, body, metadata)
            } else {
                guard let token = Self.bearer(request.headerFields[.authorization]) else {
                    throw KinkoError(.unauthenticated, "send Authorization: Bearer <token>", field: "authorization")
                }
                let caller = try await governance.authenticate(token: token, reusing: Self.reusedAuthenticationOperations.contains(operationID))
                if let permission = OperationPermissions.required[operationID] {
                    _ = try await governance.authorize(caller, permission, digest: Governance.digest(["operation": .string(operationID)]))
                }
                result = try await RequestScope.$caller.withValue(caller) { try await next(request, body, metadata) }
            }
            metrics.record(operation: operationID, status: result.0.status.code, seconds: seconds())
            return result
        } catch {
            metrics.record(operation: operationID, status: Problem(error).status.code, seconds: seconds())
            throw error
        }
    }

    /// The token of `Authorization: Bearer <token>`; nil when absent or another scheme.
    static func bearer(_ header: String?) -> String? {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }
}
