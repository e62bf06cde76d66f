import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoSurveillance

extension SurveilCommand {
    /// `kinko surveil preclear …`: an employee asks compliance to pre-clear a trade of their own;
    /// another compliance officer approves or denies it; the pre-trade check honours approvals.
    struct PreClear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "preclear",
            abstract: "Pre-clearance of employees' trades: request, list, approve, deny.",
            subcommands: [Request.self, List.self, Approve.self, Deny.self])

        static func printed(_ request: PreClearanceRequest) -> String {
            "pre-clearance request \(request.id): \(request.account) to \(request.side) \(request.market), \(SurveilCommand.iso(request.from)) – \(SurveilCommand.iso(request.to)) (UTC); "
                + "asked by \(request.requestedBy) (\(request.reason)); \(request.status.rawValue)"
                + (request.decidedBy.map { " by \($0)" } ?? "") + (request.decisionNote.map { ": \($0)" } ?? "")
        }

        struct Request: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Ask compliance to pre-clear a trade of a staff account (the window is at most 5 days).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option(help: "The staff account that will trade.") var account: String
            @Option(help: "The market, e.g. XYZ/JPY.") var market: String
            @Option(help: "buy or sell.") var side: String
            @Option(help: "Window start, ms since the epoch (default: now).") var from: Int64?
            @Option(help: "Window length in hours (1–120).") var hours: Int = 48
            @Option(help: "Why (1–500 characters).") var reason: String

            func execute() async throws {
                guard (1...120).contains(hours) else { throw ValidationError("--hours must be 1–120") }
                let session = try await Session.open(database, token)
                let start = from ?? Int64(Date().timeIntervalSince1970 * 1000)
                let request = try await Surveillance(monitoring: session.monitoring()).requestPreClearance(
                    account: account, market: market, side: side, from: start, to: start + Int64(hours) * 3_600_000, reason: reason, by: session.caller)
                print(PreClear.printed(request))
                print("a compliance officer other than you decides it: kinko surveil preclear approve \(request.id)")
            }
        }

        struct List: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Pre-clearance requests, newest first (compliance sees all; anyone else their own).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option(help: "pending, approved or denied.") var status: String?
            @Flag(help: "Print JSON.") var json = false

            func execute() async throws {
                let wanted = try status.map { name in
                    guard let status = PreClearanceRequest.Status(rawValue: name) else { throw ValidationError("--status must be pending, approved or denied") }
                    return status
                }
                let session = try await Session.open(database, token)
                let requests = try await Surveillance(monitoring: session.monitoring()).preClearanceRequests(status: wanted, by: session.caller)
                if json {
                    print(jsonText(requests.map(\.json)))
                } else if requests.isEmpty {
                    print("no pre-clearance requests" + (status.map { " that are \($0)" } ?? ""))
                } else {
                    for request in requests { print(PreClear.printed(request)) }
                }
            }
        }

        struct Approve: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Approve another person's request (refused in a blackout or a restricted window).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument(help: "The request's number.") var id: UInt64
            @Option(help: "A note (1–500 characters).") var note: String?

            func execute() async throws {
                let session = try await Session.open(database, token)
                print(PreClear.printed(try await Surveillance(monitoring: session.monitoring()).decidePreClearance(id, approve: true, note: note, by: session.caller)))
            }
        }

        struct Deny: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Deny another person's request, saying why.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument(help: "The request's number.") var id: UInt64
            @Option(help: "Why (1–500 characters).") var reason: String

            func execute() async throws {
                let session = try await Session.open(database, token)
                print(PreClear.printed(try await Surveillance(monitoring: session.monitoring()).decidePreClearance(id, approve: false, note: reason, by: session.caller)))
            }
        }
    }
}
