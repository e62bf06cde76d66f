import ArgumentParser
import Foundation
import KinkoCore
import KinkoGovernance
import KinkoSurveillance

/// `kinko surveil …`: market surveillance on the exchange's order and trade stream.
struct SurveilCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "surveil",
        abstract: "Market surveillance: insider controls (pre-trade check) and market-abuse detectors over the order and trade stream.",
        subcommands: [Rules.self, Insiders.self, PreClear.self, Ingest.self, Scan.self, Alerts.self, AlertCommand.self, Announcements.self, Backtest.self, PreTrade.self])

    struct Announcements: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "The announcements in the stream; reading one not yet published is recorded in the audit log (who knew what, when).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let views = try await Surveillance(monitoring: session.monitoring()).announcements(by: session.caller)
            guard !views.isEmpty else {
                print("no announcements in the stream")
                return
            }
            print(Table(header: ["id", "market", "kind", "known from (UTC)", "published (UTC)", "", "description"], rows: views.map {
                [$0.announcement, $0.market, $0.kind, SurveilCommand.iso($0.knownFrom), SurveilCommand.iso($0.publishedAt), $0.undisclosed ? "UNDISCLOSED" : "", $0.description]
            }).rendered)
            if views.contains(where: \.undisclosed) { print("this reading of undisclosed announcements is recorded in the audit log") }
        }
    }

    struct Ingest: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take NDJSON lines of the stream (markets, accounts, links, orders, trades, announcements, restricted-list rows); one result per line.",
            discussion: #"Each line is one row of the data set's files with "record" naming it: {"record":"order","time":1772409600002,"order_id":1,...}."#)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "The NDJSON file (- for standard input; gzip is read too).") var file: String
        @Flag(help: "Print one JSON object.") var json = false

        func execute() async throws {
            let text = try readInput(file)
            let session = try await Session.open(database, token)
            let surveillance = Surveillance(monitoring: session.monitoring())
            var accepted = 0, rejected: [(line: Int, field: String?, message: String?)] = []
            // Batches of at most linesPerIngestMax lines, each stored whole.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            var offset = 0
            while offset < lines.count {
                let chunk = lines[offset..<min(offset + Surveillance.linesPerIngestMax, lines.count)]
                for result in try await surveillance.ingest(ndjson: chunk.joined(separator: "\n"), by: session.caller) {
                    if result.status == .accepted { accepted += 1 } else {
                        rejected.append((result.line + offset, result.field, result.message))
                    }
                }
                offset += Surveillance.linesPerIngestMax
            }
            if json {
                print(jsonText(["accepted": accepted, "rejected": rejected.map { ["line": $0.line, "field": $0.field as Any, "message": $0.message as Any] }]))
                return
            }
            print("\(accepted) lines accepted, \(rejected.count) rejected")
            for result in rejected.prefix(50) { print("line \(result.line): \(result.field ?? "line"): \(result.message ?? "")") }
        }
    }

    struct Scan: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every detector over the stream kept so far under the rule set in force; keep the alerts not raised before (a job for every few minutes).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let result = try await Surveillance(monitoring: session.monitoring()).scan(by: session.caller)
            print("scanned \(result.orderEvents) order events and \(result.trades) trades under rule set \(result.ruleSetVersion): \(result.alerts) alerts, \(result.raised.count) new" + (result.raised.isEmpty ? "" : ": " + result.raised.joined(separator: ", ")))
            for queued in result.queued { print("queued \(queued.surveillanceAlert) as monitoring alert \(queued.alert) (kinko monitor alert \(queued.alert))") }
        }
    }

    struct Alerts: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "The market-abuse alerts kept, latest window first.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Only this typology (wash_trade, spoofing, layering, insider_trading, pump_and_dump, multi_account).") var typology: String?
        @Option(help: "At most this many (1–10,000).") var limit: Int = 100
        @Flag(help: "Print JSON.") var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let alerts = try await Surveillance(monitoring: session.monitoring()).alerts(typology: typology, limit: limit, by: session.caller)
            if json {
                print(jsonText(alerts.map(SurveilCommand.json)))
                return
            }
            guard !alerts.isEmpty else {
                print("no surveillance alerts" + (typology.map { " of typology \($0)" } ?? ""))
                return
            }
            print(Table(header: ["id", "typology", "market", "accounts", "window (UTC)", "score"], rows: alerts.map {
                [$0.id, $0.typology, $0.market, $0.accounts.prefix(3).joined(separator: ",") + ($0.accounts.count > 3 ? " +\($0.accounts.count - 3)" : ""),
                 "\(SurveilCommand.iso($0.start)) – \(SurveilCommand.iso($0.end))", String($0.score)]
            }).rendered)
        }
    }

    struct AlertCommand: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "alert", abstract: "One market-abuse alert: figures against thresholds, accounts, the orders and trades behind it.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Argument(help: "The alert's id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let alert = try await Surveillance(monitoring: session.monitoring()).alert(id, by: session.caller)
            if json {
                print(jsonText(SurveilCommand.json(alert)))
                return
            }
            print("surveillance alert \(alert.id) — \(alert.typology) on \(alert.market), \(SurveilCommand.iso(alert.start)) – \(SurveilCommand.iso(alert.end)) (UTC); rule set \(alert.ruleSetVersion)")
            print("queue: " + (alert.queueAlert.map { "monitoring alert \($0), \(alert.status)" + (alert.caseID.map { " in case \($0)" } ?? "") } ?? "not queued yet (the next scan queues it)"))
            print(alert.explanation)
            print(Table(header: ["figure", "value", "threshold"], rows: alert.figures.map { [$0.name, String($0.value), String($0.threshold)] }).rendered)
            print("accounts: " + alert.accounts.joined(separator: ", "))
            if !alert.orders.isEmpty { print("orders: " + alert.orders.prefix(40).map(String.init).joined(separator: ", ") + (alert.orders.count > 40 ? " … (\(alert.orders.count))" : "")) }
            if !alert.trades.isEmpty { print("trades: " + alert.trades.prefix(40).map(String.init).joined(separator: ", ") + (alert.trades.count > 40 ? " … (\(alert.trades.count))" : "")) }
        }
    }

    static func iso(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func json(_ alert: StoredSurveillanceAlert) -> [String: Any] {
        ["id": alert.id, "typology": alert.typology, "market": alert.market, "accounts": alert.accounts, "start": alert.start, "end": alert.end,
         "score": alert.score, "explanation": alert.explanation, "rule_set_version": alert.ruleSetVersion, "status": alert.status,
         "queue_alert": alert.queueAlert.map { $0 as Any } ?? NSNull(), "case": alert.caseID.map { $0 as Any } ?? NSNull(), "customers": alert.customers ?? [],
         "figures": alert.figures.map { ["name": $0.name, "value": $0.value, "threshold": $0.threshold] as [String: Any] },
         "orders": alert.orders, "trades": alert.trades]
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Versioned surveillance rule sets, adopted under approval.",
                                                        subcommands: DocumentCommands<SurveillanceRules>.subcommands)
    }

    struct Insiders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The insider list (staff, restricted list, blackouts, households, pre-clearances), changed only under approval.",
            subcommands: DocumentCommands<InsiderList>.subcommands + [Derive.self])

        struct Derive: KinkoCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print the insider list a data set implies, to propose: its staff and restricted list, a blackout per announcement, the households its links reveal.")
            @Option(help: "A directory in marketsim's layout.") var dataset: String
            @Option(help: "The list's version.") var version: String = "insiders-1"
            @Option(help: "Hours staff stay out of a market after its news is public.") var coolingOffHours: Int = 24
            @Flag(help: "Staff trades need compliance's pre-clearance.") var preClearanceRequired = false

            func execute() async throws {
                guard (0...720).contains(coolingOffHours) else { throw ValidationError("--cooling-off-hours must be 0–720") }
                let data = try MarketDataset(directory: dataset, skipping: ["orders", "trades"])
                print(InsiderList.derive(from: data, version: version, coolingOff: Int64(coolingOffHours) * 3_600_000, preClearanceRequired: preClearanceRequired).yaml,
                      terminator: "")
            }
        }
    }

    struct Backtest: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the detectors over a data set in marketsim's layout (nothing is stored) and score them against its labels.",
            discussion: """
                DIR holds markets, accounts, links, orders, trades, announcements and restricted (.csv or .csv.gz) and, for \
                scoring, labels. Every alert is written to --alerts-out as NDJSON (typology, market, accounts, start, end in ms, \
                with the score, figures and evidence). Scoring follows the data set's rule: an instance is found by an alert of \
                its family naming at least half its accounts within an hour of its window.
                """)
        @Option(help: "A directory in marketsim's layout.") var dataset: String
        @Option(help: "The rule set YAML (default: Kinko's default surveillance rule set).") var rules: String?
        @Option(help: "Write every alert here as NDJSON.") var alertsOut: String?
        @Flag(help: "Print one JSON object.") var json = false

        func execute() async throws {
            let rules = try SurveillanceRules(yaml: try rules.map { try readFile($0, field: "--rules") } ?? SurveillanceRules.defaultYAML)
            let data = try MarketDataset(directory: dataset)
            let started = ContinuousClock.now
            let alerts = SurveillanceEngine.run(data, rules: rules)
            let elapsed = ContinuousClock.now - started
            if let alertsOut {
                let lines = alerts.map { jsonLine($0.json(markets: data.markets, accounts: data.accounts)) }
                try Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8).write(to: URL(fileURLWithPath: alertsOut))
            }
            var report: [String: Any] = [
                "rule_set_version": rules.version, "order_events": data.orders.count, "trades": data.trades.count, "alerts": alerts.count,
                "seconds": (elapsed.seconds * 1000).rounded() / 1000,
                "alerts_per_typology": Dictionary(grouping: alerts, by: \.typology.rawValue).mapValues(\.count),
            ]
            let score = try MarketDataset.labels(in: dataset).map { labels in
                SurveillanceScore(instances: labels, alerts: alerts.map {
                    SurveillanceScore.ScoredAlert(typology: $0.typology, market: data.markets[$0.market].symbol,
                                                  accounts: Set($0.accounts.map { data.accounts.name($0) }), start: $0.start, end: $0.end)
                })
            }
            if let score { report["score"] = score.json }
            if json {
                print(jsonText(report))
                return
            }
            print("surveillance backtest, rule set \(rules.version): \(data.orders.count) order events, \(data.trades.count) trades, \(alerts.count) alerts in \(report["seconds"] ?? 0) s")
            guard let score else {
                print("no labels in \(dataset): nothing to score")
                return
            }
            func text(_ value: Double?) -> String { value.map { String($0) } ?? "-" }
            print(Table(header: ["family", "instances", "found", "recall", "alerts", "precision"], rows: SurveillanceTypology.families.map { family in
                let line = score.perFamily[family] ?? SurveillanceScore.Line()
                return [family.rawValue, String(line.instances), String(line.found), text(line.recall), String(line.alerts), text(line.precision)]
            }).rendered)
            print("instance recall \(text(score.all.recall)), alert precision \(text(score.all.precision))")
            if !score.missed.isEmpty { print("missed: " + score.missed.joined(separator: ", ")) }
        }

        private func jsonLine(_ value: [String: Any]) -> String {
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct PreTrade: KinkoCommand {
        static let configuration = CommandConfiguration(
            commandName: "pretrade",
            abstract: "Ask the insider controls about one order: allow, or refuse with the reason (restricted list, blackout, household, pre-clearance).",
            discussion: "Against the insider list in force, or with --dataset the list that data set implies (blackouts from each announcement's known_from to a day after publication).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "A directory in marketsim's layout, instead of the list in force.") var dataset: String?
        @Option(help: "The account placing the order.") var account: String
        @Option(help: "The market, e.g. XYZ/JPY.") var market: String
        @Option(help: "buy or sell.") var side: String
        @Option(help: "The order's time, ms since the epoch (default: now).") var time: Int64?
        @Flag(help: "Print one JSON object.") var json = false

        func execute() async throws {
            guard let side = OrderSide(rawValue: side) else { throw ValidationError("--side must be buy or sell") }
            let list: InsiderList
            if let dataset {
                list = InsiderList.derive(from: try MarketDataset(directory: dataset, skipping: ["orders", "trades"]), version: "derived")
            } else {
                let session = try await Session.open(database, token)
                _ = try await session.governance.authorize(session.caller, .monitorIngest)
                guard let current = try await AdoptedDocuments<InsiderList>(governance: session.governance).current() else {
                    throw KinkoError(.notFound, "no insider list is in force: propose one (kinko surveil insiders propose) and adopt it", field: "insiders")
                }
                list = current
            }
            let decision = InsiderControls(list: list).check(PreTradeRequest(account: account, market: market, side: side,
                                                                             time: time ?? Int64(Date().timeIntervalSince1970 * 1000)))
            if json {
                print(jsonText(["allowed": decision.allowed, "reason": decision.reason?.rawValue as Any, "detail": decision.detail, "insider_list_version": list.version]))
            } else {
                print(decision.allowed ? "allow" : "refuse: \(decision.reason?.rawValue ?? "") — \(decision.detail)")
            }
        }
    }
}

extension MarketDataset {
    /// Reads marketsim's layout from a directory, each file as .csv.gz or .csv; `skipping` names
    /// files not needed (read as empty).
    init(directory: String, skipping: Set<String> = []) throws {
        var files: [String: String] = [:]
        for name in Self.fileNames {
            if skipping.contains(name) {
                if name == "orders" { files[name] = "time,order_id,account_id,market,side,type,price,quantity,event,filled_quantity\n" }
                continue
            }
            if let text = try Self.file(name, in: directory) { files[name] = text }
        }
        try self.init(files: files)
    }

    /// The labels of a data set, when it has them.
    static func labels(in directory: String) throws -> [LabelledInstance]? {
        try file("labels", in: directory).map { try LabelledInstance.read($0) }
    }

    private static func file(_ name: String, in directory: String) throws -> String? {
        for candidate in ["\(directory)/\(name).csv.gz", "\(directory)/\(name).csv"] where FileManager.default.fileExists(atPath: candidate) {
            return try readFile(candidate, field: "--dataset")
        }
        return nil
    }
}
