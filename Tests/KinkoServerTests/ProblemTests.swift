import HTTPTypes
import Hummingbird
import KinkoCore
import KinkoGovernance
@testable import KinkoServer
import Testing

@Suite("Problem documents")
struct ProblemTests {
    // Goal: a database that is unreachable answers 503 with Retry-After (a client may retry:
    // nothing unacknowledged was committed), not 400 or 500.
    @Test func storageUnavailableIs503WithRetryAfter() {
        let problem = Problem(KinkoError(.storageUnavailable, "the database is restarting or unreachable (57P01); retry"))
        #expect(problem.status == .serviceUnavailable && problem.code == "storage_unavailable")
        let response = problem.response(requestID: "r-1")
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers[.retryAfter] == String(Problem.retryAfterSeconds))
        #expect(Problem(KinkoError(.storageFailure, "x")).status == .internalServerError)
        #expect(Problem(KinkoError(.conflict, "x")).response(requestID: nil).headers[.retryAfter] == nil)
    }
}
