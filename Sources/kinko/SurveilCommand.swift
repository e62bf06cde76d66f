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
        subcommands: [Rules.self, Insiders.self, Backtest.self, PreTrade.self])

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
