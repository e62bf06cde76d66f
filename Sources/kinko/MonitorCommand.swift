import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import KinkoStores

extension Session {
    func monitoring() -> Monitoring {
        Monitoring(governance: governance, store: stores.monitoring)
    }
}

/// A file, or standard input for `-`; gzip-compressed input is decompressed (`InputFile`).
func readInput(_ path: String, field: String = "--file") throws -> String {
    guard path == "-" else { return try readFile(path, field: field) }
    return try InputFile.text(of: FileHandle.standardInput.readDataToEndOfFile(), name: "standard input", field: field)
}

func jsonText(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Real-time AML/CFT monitoring: rule sets, lists, customers, ingestion, alerts, cases, STR drafts, backtests.",
        subcommands: [Rules.self, Lists.self, Jurisdictions.self, TravelRule.self, Customers.self, Ingest.self, Alerts.self, Alert.self, Dismiss.self, ExecuteDismissal.self, Cases.self,
                      Case.self, STR.self, NetworkScanCommand.self, Backtest.self, Train.self])

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Versioned YAML rule sets, live only after approval.",
                                                        subcommands: DocumentCommands<MonitoringRules>.subcommands)
    }

    struct Lists: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sanctioned and known-stolen address lists (OFAC layout: one address a line).",
                                                        subcommands: [Propose.self, Activate.self, Show.self])

        /// `--kind --asset --version --file`: one list.
        struct ListOptions: ParsableArguments {
            @Option(help: "sanctioned or stolen.") var kind: String
            @Option(help: "The asset the addresses belong to (e.g. ETH).") var asset: String
            @Option(help: "The list's version (e.g. the OFAC publication date).") var version: String
            @Option(help: "The list file (- for standard input).") var file: String

            func list() throws -> AddressList {
                guard let kind = AddressListKind(rawValue: kind) else {
                    throw KinkoError(.invalidInput, "must be sanctioned or stolen", field: "kind")
                }
                return try AddressList(kind: kind, asset: asset, version: version, text: try readInput(file))
            }
        }

        struct Propose: KinkoCommand {
            static let configuration = CommandConfiguration(
                abstract: "File a replacement of the list of one kind and asset; a second compliance officer approves its SHA-256, then `activate`.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @OptionGroup var options: ListOptions

            func execute() async throws {
                let list = try options.list()
                let session = try await Session.open(database, token)
                let request = try await session.monitoring().proposeList(list, by: session.caller)
                print("""
                    approval request \(request.id) filed: \(list.kind.rawValue) \(list.asset) list version \(list.version), \(list.addresses.count) addresses
                    (SHA-256 \(Monitoring.digest(of: list))); another compliance officer approves, then:
                    kinko monitor lists activate --request \(request.id) --kind \(list.kind.rawValue) --asset \(list.asset) --version \(list.version) --file FILE
                    """)
            }
        }

        struct Activate: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Put an approved list in force (the same file that was approved).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option(help: "The approval request filed by `propose`.") var request: String
            @OptionGroup var options: ListOptions

            func execute() async throws {
                let list = try options.list()
                let session = try await Session.open(database, token)
                try await session.monitoring().activateList(list, request: try ApprovalRequestID(parsing: request, field: "request"), by: session.caller)
                print("\(list.kind.rawValue) \(list.asset) list version \(list.version) in force: \(list.addresses.count) addresses")
            }
        }

        struct Show: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "The lists in force.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions

            func execute() async throws {
                let session = try await Session.open(database, token)
                let lists = try await session.monitoring().addressLists(by: session.caller)
                print(Table(header: ["kind", "asset", "version", "addresses"], rows: lists.map { [$0.kind.rawValue, $0.asset, $0.version, String($0.addresses.count)] }).rendered)
            }
        }
    }

    struct Jurisdictions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where the travel rule applies (Japan and the FSA's designated jurisdictions).",
                                                        subcommands: [Set.self, Activate.self, Show.self])

        struct Set: KinkoCommand {
            static let configuration = CommandConfiguration(
                commandName: "set", abstract: "File a replacement list (ISO 3166-1 alpha-2 codes, dated; JP is required); a second compliance officer approves.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option var version: String
            @Option(help: "Comma-separated designations: CC (always), CC@YYYY-MM-DD (from that day, 00:00 JST) or CC@FROM..UNTIL (until that day, exclusive).")
            var countries: String

            func execute() async throws {
                let list = try TravelRuleJurisdictions(version: version, text: countries)
                let session = try await Session.open(database, token)
                let request = try await session.monitoring().proposeJurisdictions(list, by: session.caller)
                print("approval request \(request.id) filed: travel-rule jurisdictions \(list.version); once approved: kinko monitor jurisdictions activate --request \(request.id)")
            }
        }

        struct Activate: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Put an approved jurisdiction list in force.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option(help: "The approval request filed by `set`.") var request: String

            func execute() async throws {
                let session = try await Session.open(database, token)
                let list = try await session.monitoring().activateJurisdictions(request: try ApprovalRequestID(parsing: request, field: "request"),
                                                                                by: session.caller)
                print("travel-rule jurisdictions \(list.version) in force: \(list.text)")
            }
        }

        struct Show: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "The list in force: the countries designated at a time (default now), then every dated designation.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option(help: "A JST day YYYY-MM-DD (its end) or an instant.") var at: String?

            func execute() async throws {
                let session = try await Session.open(database, token)
                let list = try await session.monitoring().jurisdictions(by: session.caller)
                let time = try at.map { text throws(KinkoError) in try TimestampNanoseconds(asOf: text, field: "at") } ?? session.governance.clock.now()
                print(Self.render(list, at: time))
            }

            static func render(_ list: TravelRuleJurisdictions, at time: TimestampNanoseconds) -> String {
                let inForce = list.countries(at: time)
                let others = inForce.subtracting(["JP"]).sorted()
                var lines = ["travel-rule jurisdictions \(list.version), in force at \(time.jst): "
                                + (inForce.contains("JP") ? "JP and \(others.count) others" : "\(others.count) jurisdictions")]
                lines.append("  " + (inForce.contains("JP") ? ["JP"] + others : others).joined(separator: " "))
                lines.append("designations:")
                for designation in list.designations {
                    let from = designation.from.map { "from \($0)" } ?? "always"
                    let until = designation.until.map { ", until \($0)" } ?? ""
                    lines.append("  \(designation.country)  \(from)\(until)\(designation.inForce(at: time) ? "" : "  (not in force then)")")
                }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct TravelRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "travel-rule", abstract: "Travel-rule messages (IVMS101) sent with withdrawals and received with deposits, kept per transfer.",
            subcommands: [Show.self, List.self])

        struct Show: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "One transfer's message: who sent what to whom, what it lacks, how long it is kept.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option(help: "The transfer's monitoring event id.") var event: String
            @Flag(help: "Print the stored IVMS101 JSON only.") var json = false

            func execute() async throws {
                let session = try await Session.open(database, token)
                let monitoring = session.monitoring()
                let message = try await monitoring.travelRuleMessage(event: event, by: session.caller)
                if json { return print(message.ivms101) }
                print(try Self.render(message, years: try await monitoring.transactionRetentionYears()))
            }

            static func render(_ m: TravelRuleMessage, years: Int) throws -> String {
                let (originator, beneficiary) = try m.parties()
                func party(_ label: String, _ p: TravelRuleParty?) -> String {
                    guard let p else { return "\(label): (none)" }
                    let birth = [p.dateOfBirth, p.placeOfBirth].compactMap { $0 }.joined(separator: ", ")
                    return "\(label): \(p.name ?? "(no name)"); account \(p.account ?? "-"); address \(p.geographicAddress ?? "-"); "
                        + "national id \(p.nationalID ?? "-"); born \(birth.isEmpty ? "-" : birth)"
                }
                let missing = try m.missing()
                let counterparty = "\(m.counterpartyVASP ?? "(unnamed exchange)")\(m.counterpartyCountry.map { " (\($0))" } ?? "")"
                return [
                    "event \(m.event): \(m.direction == .sent ? "sent to" : "received from") \(counterparty)",
                    "customer \(m.customer), \(m.asset ?? "-") worth JPY \(m.amountJPY), at \(m.time.jst)",
                    party("originator", originator),
                    party("beneficiary", beneficiary),
                    missing.isEmpty ? "complete" : "lacks: " + missing.map(KinkoMonitoring.TravelRule.describe).joined(separator: "; "),
                    "stored \(m.recordedAt.jst); kept until at least \(m.keptUntil(years: years).jstDay) (\(years) years, transaction records)",
                ].joined(separator: "\n")
            }
        }

        struct List: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "A customer's messages, oldest first.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option var customer: UInt64
            @Option(help: "The event of the last message of the previous page.") var after: String?
            @Option var limit: Int?

            func execute() async throws {
                let session = try await Session.open(database, token)
                let messages = try await session.monitoring().travelRuleMessages(customer: customer, after: after, limit: limit, by: session.caller)
                for m in messages {
                    let missing = try m.missing()
                    print([m.time.jst, m.event, m.direction.rawValue, m.counterpartyVASP ?? "-", m.counterpartyCountry ?? "-", "JPY \(m.amountJPY)",
                           missing.isEmpty ? "complete" : "lacks \(missing.joined(separator: ","))"].joined(separator: "  "))
                }
                if messages.isEmpty { print("no travel-rule messages of customer \(customer)") }
            }
        }
    }

    struct Customers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "KYC profiles monitoring compares activity against.", subcommands: [Import.self])

        struct Import: KinkoCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import profiles from CSV: customer,name,country,declared_income_jpy,declared_assets_jpy (a bad line refuses the file).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option var file: String

            func execute() async throws {
                let csv = try readInput(file)
                let session = try await Session.open(database, token)
                let count = try await session.monitoring().importProfiles(csv: csv, by: session.caller)
                print("\(count) customer profiles imported")
            }
        }
    }

    struct Ingest: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a batch of NDJSON events; prints each line's verdict (bad lines are rejected, the rest kept).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The NDJSON file (- for standard input).") var file: String
        @Flag(help: "Print one JSON object per line.") var json = false

        func execute() async throws {
            let text = try readInput(file)
            let session = try await Session.open(database, token)
            let results = try await session.monitoring().ingest(ndjson: text, by: session.caller)
            if json {
                for r in results {
                    let object: [String: Any] = ["line": r.line, "event": r.event ?? NSNull(), "status": r.status.rawValue, "outcome": r.outcome?.rawValue ?? NSNull(),
                                                 "alert": r.alert.map { $0 as Any } ?? NSNull(), "rules": r.rules, "message": r.message ?? NSNull()]
                    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                    print(String(decoding: data, as: UTF8.self))
                }
            } else {
                print(Table(header: ["line", "event", "status", "outcome", "alert", "rules / reason"], rows: results.map {
                    [String($0.line), $0.event ?? "-", $0.status.rawValue, $0.outcome?.rawValue ?? "-", $0.alert.map(String.init) ?? "-",
                     $0.status == .evaluated ? $0.rules.joined(separator: ",") : ($0.message ?? "")]
                }).rendered)
                let counts = Dictionary(grouping: results, by: { $0.outcome?.rawValue ?? $0.status.rawValue }).mapValues(\.count)
                print("\n" + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            if results.contains(where: { $0.status == .rejected }) { throw ExitCode(4) }
        }
    }

    struct NetworkScanCommand: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "network-scan",
            abstract: "Run the network detectors over every stored transfer between customers; raise an alert for each new motif within the budget.",
            discussion: """
                Rebuilds the scan from the stored transfers each time (a second run, or a run after a restart, raises nothing \
                twice), settles the relationships that have waited long enough by now, and raises the motifs within the rule \
                set's alert budget that have no alert yet. Run it daily. Needs the operator's monitor.ingest.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Flag var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let result = try await session.monitoring().scanNetwork(by: session.caller)
            let raised = result.raised
            if json {
                print(jsonText([
                    "transfers": result.transfers, "candidates": result.candidates, "within_budget": result.withinBudget, "rule_set": result.ruleSetVersion,
                    "settle_days": result.settleDays.map { $0 as Any } ?? NSNull(), "window_days": result.windowDays.map { $0 as Any } ?? NSNull(),
                    "raised": raised.map { ["alert": $0.alert, "motif": $0.motif] as [String: Any] },
                    "grown": result.grown.map { ["alert": $0.alert, "motif": $0.motif] as [String: Any] },
                ] as [String: Any]))
                return
            }
            let windows = result.settleDays.map { String(format: "settle window %.1f days, motif window %.1f days", $0, result.windowDays ?? 0) }
                ?? "no settle window yet (fewer than \(NetworkSettings.gapsBeforeSettling) repeats seen)"
            print("\(result.transfers) transfers between customers, \(windows); \(result.candidates) candidates, \(result.withinBudget) within the budget "
                  + "of rule set \(result.ruleSetVersion); \(raised.count) new alerts, \(result.grown.count) alerts grown")
            let rows = raised.map { [String($0.alert), $0.motif, "new"] } + result.grown.map { [String($0.alert), $0.motif, "grown"] }
            if !rows.isEmpty { print(Table(header: ["alert", "motif", ""], rows: rows).rendered) }
        }
    }

    struct Alerts: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "The alert queue.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "open, in_case, dismissed or closed (default: all).") var status: String?
        @Option var limit = 100

        func execute() async throws {
            let status = try status.map { text throws -> AlertStatus in
                guard let status = AlertStatus(rawValue: text) else { throw KinkoError(.invalidInput, "unknown status \(text)", field: "status") }
                return status
            }
            let session = try await Session.open(database, token)
            let alerts = try await session.monitoring().alerts(status: status, limit: limit, by: session.caller)
            print(Table(header: ["alert", "outcome", "event", "customer", "time", "rule set", "status", "rules"], rows: alerts.map {
                [String($0.id), $0.outcome.rawValue, $0.event, String($0.customer), $0.time.iso8601, $0.ruleSetVersion,
                 $0.status.rawValue + ($0.caseID.map { " (case \($0))" } ?? ""), $0.hits.map(\.rule).joined(separator: ",")]
            }).rendered)
        }
    }

    struct Alert: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "One alert, explained: rules, values, events, customers, rule-set version.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: UInt64
        @Flag var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let alert = try await session.monitoring().alert(id, by: session.caller)
            print(json ? jsonText(alert.json) : alert.text)
        }
    }

    struct Dismiss: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Close an open alert with no further action (the reason is audited).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var id: UInt64
        @Option var reason: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            switch try await session.monitoring().dismiss(id, reason: reason, by: session.caller) {
            case .dismissed:
                print("alert \(id) dismissed")
            case .awaitingApproval(let request):
                print("alert \(id) blocked a transaction: dismissing it needs a second compliance officer (approval request \(request.id));"
                      + " once approved: kinko monitor execute-dismissal \(request.id)")
            }
        }
    }

    struct ExecuteDismissal: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "execute-dismissal", abstract: "Dismiss a blocking alert once its dismissal is approved.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument(help: "The approval request.") var request: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            try await session.monitoring().executeDismissal(request: try ApprovalRequestID(parsing: request, field: "request"), by: session.caller)
            print("dismissed (request \(request))")
        }
    }

    struct Cases: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List cases, oldest first, a page at a time.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Cases after this id (the previous page's `next`).") var after: UInt64 = 0
        @Option(help: "Page size, 1–\(Governance.pageMax).") var limit = Governance.pageDefault

        func execute() async throws {
            let session = try await Session.open(database, token)
            let page = try await session.monitoring().cases(after: after, limit: limit, by: session.caller)
            print(Table(header: ["case", "title", "status", "disposition", "assignee", "alerts"], rows: page.cases.map {
                [String($0.id), $0.title, $0.status.rawValue, $0.disposition?.rawValue ?? "-", $0.assignee ?? "-", String($0.alerts.count)]
            }).rendered)
            if let next = page.next { print("more: --after \(next)") }
        }
    }

    struct Case: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open, work and close a case.",
                                                        subcommands: [Open.self, Show.self, Assign.self, Note.self, Add.self, Investigate.self, Close.self])

        struct Open: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Open a case over open alerts.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option var title: String
            @Option(help: "Comma-separated alert ids.") var alerts: String
            @Option(help: "A compliance officer's principal name.") var assignee: String?

            func execute() async throws {
                let ids = try MonitoringCase.alertIDs(alerts)
                let session = try await Session.open(database, token)
                let record = try await session.monitoring().openCase(title: title, alerts: ids, assignee: assignee, by: session.caller)
                print("case \(record.id) opened with alerts \(record.alerts.map(String.init).joined(separator: ", "))")
            }
        }

        struct Show: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "A case with its alerts and notes.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument var id: UInt64

            func execute() async throws {
                let session = try await Session.open(database, token)
                let monitoring = session.monitoring()
                let record = try await monitoring.caseRecord(id, by: session.caller)
                print(record.text)
                for alertID in record.alerts { print("\n" + (try await monitoring.alert(alertID, by: session.caller)).text) }
            }
        }

        struct Assign: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Assign a case to a compliance officer.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument var id: UInt64
            @Option var to: String

            func execute() async throws {
                let session = try await Session.open(database, token)
                _ = try await session.monitoring().updateCase(id, .assign(to), by: session.caller)
                print("case \(id) assigned to \(to)")
            }
        }

        struct Note: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Add a note to a case.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument var id: UInt64
            @Option var text: String

            func execute() async throws {
                let session = try await Session.open(database, token)
                let record = try await session.monitoring().updateCase(id, .note(text), by: session.caller)
                print("case \(id): note \(record.notes.count) added")
            }
        }

        struct Add: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Add open alerts to a case.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument var id: UInt64
            @Option(help: "Comma-separated alert ids.") var alerts: String

            func execute() async throws {
                let ids = try MonitoringCase.alertIDs(alerts)
                let session = try await Session.open(database, token)
                let record = try await session.monitoring().updateCase(id, .addAlerts(ids), by: session.caller)
                print("case \(id) holds alerts \(record.alerts.map(String.init).joined(separator: ", "))")
            }
        }

        struct Investigate: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Mark a case under investigation.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument var id: UInt64

            func execute() async throws {
                let session = try await Session.open(database, token)
                _ = try await session.monitoring().updateCase(id, .investigate, by: session.caller)
                print("case \(id) is under investigation")
            }
        }

        struct Close: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Close a case with its disposition.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Argument var id: UInt64
            @Option(help: "no_action, str_filed, account_closed or referred.") var disposition: String

            func execute() async throws {
                guard let value = CaseDisposition(rawValue: disposition) else {
                    throw KinkoError(.invalidInput, "one of \(CaseDisposition.allCases.map(\.rawValue).joined(separator: ", "))", field: "disposition")
                }
                let session = try await Session.open(database, token)
                _ = try await session.monitoring().updateCase(id, .close(value), by: session.caller)
                print("case \(id) closed: \(value.rawValue)")
            }
        }
    }

    struct STR: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "str", abstract: "Draft the suspicious transaction report of a case.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument var caseID: UInt64
        @Option(help: "text or json.") var format = "text"

        func execute() async throws {
            guard ["text", "json"].contains(format) else { throw KinkoError(.invalidInput, "text or json", field: "format") }
            let session = try await Session.open(database, token)
            let draft = try await session.monitoring().draftSTR(case: caseID, by: session.caller)
            print(format == "json" ? jsonText(draft.json) : draft.text)
        }
    }

    struct Backtest: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay history under a rule set (nothing is stored): NDJSON events, or AMLSim output scored per typology.",
            discussion: """
                With --amlsim, the per-event rules are scored against the planted instances, and so are the network detectors \
                (the rule set's network section) at its alert budget and along a precision-recall curve of budgets. \
                --perturb reruns the network detectors on transformed copies of the data (time:F, amount:F, background:F, renumber, \
                drop:SHARE; "standard" for all seven) and reports how far instance recall moved.
                """)
        @Option(help: "The rule set YAML (default: Kinko's default rule set).") var rules: String?
        @Option(help: "NDJSON events to replay.") var events: String?
        @Option(help: "A directory in AMLSim's layout (transactions, accounts, alert_accounts; .csv or .csv.gz).") var amlsim: String?
        @Option(help: "Comma-separated perturbations for the network detectors (with --amlsim), or \"standard\".") var perturb: String?
        @Option(help: "Seed of the random perturbations.") var seed: UInt64 = 1
        @Flag(help: "Print one JSON object.") var json = false

        func execute() async throws {
            let rules = try MonitoringRules(yaml: try rules.map { try readFile($0, field: "--rules") } ?? MonitoringRules.defaultYAML)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            if let amlsim {
                let perturbations = try perturb.map { text in
                    text == "standard" ? AMLSimPerturbation.standard : try text.split(separator: ",").map { try AMLSimPerturbation(parsing: String($0)) }
                } ?? []
                if !perturbations.isEmpty, rules.network == nil { throw ValidationError("--perturb needs a rule set with a network section") }
                let data = try AMLSimData(directory: amlsim)
                var report = try AMLSimReport.run(data, rules: rules)
                if let network = rules.network {
                    let base = NetworkReport.run(data, settings: network)
                    report.network = base
                    report.perturbations = NetworkReport.perturbations(perturbations, of: data, base: base, settings: network, seed: seed)
                }
                print(json ? String(decoding: try encoder.encode(report), as: UTF8.self) : report.text)
                return
            }
            guard let events else { throw ValidationError("give --events FILE or --amlsim DIR") }
            let (parsed, rejected) = EventInput.parse(try readFile(events, field: "--events"))
            for rejection in rejected { FileHandle.standardError.write(Data("rejected: \(rejection)\n".utf8)) }
            let summary = try KinkoMonitoring.Backtest.replay(parsed.map(\.event), rules: rules)
            if json {
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            } else {
                print("backtest of rule set \(summary.ruleSetVersion): \(summary.events) events, \(rejected.count) rejected lines")
                print("outcomes: " + summary.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                print("rules: " + summary.rules.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                print(Table(header: ["event", "customer", "outcome", "rules"], rows: summary.alerts.prefix(50).map {
                    [$0.event, String($0.customer), $0.outcome, $0.rules.joined(separator: ",")]
                }).rendered)
            }
        }
    }

    struct Train: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the network detectors' fan model on labelled AMLSim data; prints a rule set to propose (nothing is stored).",
            discussion: """
                Runs the network detectors over the data, labels each fan by whether at least half of the accounts it names are \
                members of a planted instance, and fits the logistic model from --seed (the same data and seed give the same \
                weights). Its recorded threshold is the score at the rule set's alert budget on this data (for reference: backtests and the live scan select by the budget). The output is the rule set \
                (--rules, or the default) with its network section replaced: propose it with `kinko monitor rules propose` and \
                adopt it under approval like any rule set. Check it with `monitor backtest --amlsim` on a set it was not trained on.
                """)
        @Option(help: "A directory in AMLSim's layout to train on.") var amlsim: String
        @Option(help: "The rule set whose network section is replaced (default: Kinko's default rule set).") var rules: String?
        @Option(help: "The seed (which ordinary fans are sampled, the order of the rows).") var seed: UInt64 = 1
        @Option(help: "The new rule set's version (default: the old one with -trained-<seed>).") var version: String?
        @Option(help: "Write the rule set here instead of standard output.") var out: String?
        @Option(help: "Comma-separated features the model may use (the others get weight 0; default all).") var features: String?
        @Option(help: "Ordinary fans kept per laundering fan (a seeded sample), 1–1000.") var negatives: Int = 8
        @Option(help: "L2 shrinkage of the weights, 0–10.") var shrinkage: Double = 0.01
        @Flag(help: ArgumentHelp("Learn from the fans a cold stream raises (settling from its first gaps, no warm-up).",
                                 discussion: "The warm-up hides the ordinary fans of a stream's first weeks; without ordinary fans there is nothing to learn the ordinary side from."))
        var coldStart = false

        func execute() async throws {
            let yaml = try rules.map { try readFile($0, field: "--rules") } ?? MonitoringRules.defaultYAML
            let current = try MonitoringRules(yaml: yaml)
            guard let settings = current.network else { throw ValidationError("--rules: the rule set has no network section to train") }
            let data = try AMLSimData(directory: amlsim)
            let name = URL(fileURLWithPath: amlsim).standardizedFileURL.lastPathComponent
            var trained = settings
            guard (1...1_000).contains(negatives) else { throw KinkoError(.invalidInput, "must be 1–1000", field: "negatives") }
            guard (0...10).contains(shrinkage) else { throw KinkoError(.invalidInput, "must be 0–10", field: "shrinkage") }
            let used = features.map { list in Set(list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) } ?? Set(NetworkFeatures.names)
            trained.model = try NetworkTraining.train(data, settings: settings, seed: seed, version: "\(name)-seed-\(seed)", trainedOn: "\(name)\(coldStart ? ", cold start" : ""); shrinkage \(shrinkage); \(negatives) ordinary fans per laundering fan; \(features.map { "features \($0)" } ?? "all features")",
                                                      using: used, negativesPerPositive: negatives, shrinkage: shrinkage, warmUp: !coldStart)
            let newVersion = version ?? String((current.version.prefix(20) + "-trained-\(seed)").prefix(32))
            var text = yaml.replacingOccurrences(of: "version: \"\(current.version)\"", with: "version: \"\(newVersion)\"")
            guard let start = text.range(of: "\nnetwork:") else { throw ValidationError("--rules: the network section must start a line (network:) and end the file") }
            text = String(text[..<start.lowerBound]) + "\n" + trained.yaml
            let checked = try MonitoringRules(yaml: text)
            guard checked.network == trained else { throw KinkoError(.internalError, "the trained rule set does not read back to the same model") }
            let check = NetworkReport.run(data, settings: trained)
            FileHandle.standardError.write(Data("""
                trained \(trained.model.version) on \(name): threshold \(trained.model.threshold) at \(trained.alertBudget) alerts per 1,000 accounts per month; \
                on the training data \(check.atBudget.alerts) alerts, instance recall \(check.atBudget.instanceRecall), account precision \(check.atBudget.accountPrecision)

                """.utf8))
            if let out { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } else { print(text, terminator: "") }
        }
    }
}

extension AMLSimData {
    /// Reads AMLSim's layout from a directory: transactions, accounts, alert_accounts, each as
    /// .csv.gz or .csv.
    init(directory: String) throws {
        func file(_ name: String) throws -> String {
            for candidate in ["\(directory)/\(name).csv.gz", "\(directory)/\(name).csv"] where FileManager.default.fileExists(atPath: candidate) {
                return try readFile(candidate, field: "--amlsim")
            }
            throw ValidationError("--amlsim: \(directory) has no \(name).csv or \(name).csv.gz")
        }
        try self.init(transactions: try file("transactions"), accounts: try file("accounts"), alertAccounts: try file("alert_accounts"))
    }
}
