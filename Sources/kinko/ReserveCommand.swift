import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoReserve
import KinkoStores

extension Session {
    func reserve() async throws -> Reserve {
        try await exchange().reserve
    }
}

struct ReserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserve",
        abstract: "The liability reserve: rule sets, trading volume, insurance, the requirement, the reserve fund.",
        subcommands: [Rules.self, Volumes.self, Insurance.self, Compute.self, Adequacy.self, Fund.self, FundExecute.self])

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Versioned YAML rule sets, adopted only after approval.",
                                                        subcommands: DocumentCommands<RuleSet>.subcommands)
    }

    struct Volumes: KinkoCommand {
        static let configuration = CommandConfiguration(
            abstract: "Daily trading volume per category: --refresh reads new trades from the ledger; --import reads a CSV (day,category,amount_jpy).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Flag var refresh = false
        @Option(name: .customLong("import")) var importFile: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let reserve = try await session.reserve()
            if refresh { print("aggregated \(try await reserve.refreshVolumes(by: session.caller)) new trade legs") }
            if let importFile {
                let rows = try CSVFile.rows(try readFile(importFile), required: ["day", "category", "amount_jpy"]).map { row in
                    VolumeRow(day: row["day"] ?? "", category: row["category"] ?? "", amount: try Amount(decimal: row["amount_jpy"] ?? "", scale: 0))
                }
                try await reserve.importVolumes(rows, by: session.caller)
                print("imported \(rows.count) daily volumes")
            }
            let volumes = try await reserve.volumes(by: session.caller)
            let rows = volumes.flatMap { category, days in days.map { [$0.key, category, $0.value.description] } }.sorted { $0[0] + $0[1] < $1[0] + $1[1] }
            print(Table(header: ["day (JST)", "category", "volume (JPY)"], rows: Array(rows.suffix(30))).rendered)
        }
    }

    struct Insurance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Insurance policies.", subcommands: [Add.self, List.self])

        struct Add: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "Record an insurance policy.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions
            @Option var insurer: String
            @Option(help: "Covered loss types, comma-separated (hack, insider_fraud, …).") var coverage: String
            @Option(help: "Limit in yen.") var limit: String
            @Option(help: "Deductible in yen.") var deductible: String = "0"
            @Option(help: "Excluded loss types, comma-separated.") var exclusions: String = ""
            @Option(help: "First day in force, YYYY-MM-DD (JST).") var starts: String
            @Option(help: "Last day in force, YYYY-MM-DD (JST).") var ends: String

            func execute() async throws {
                let session = try await Session.open(database, token)
                let policy = InsurancePolicy(
                    id: 0, insurer: insurer, coverage: coverage.split(separator: ",").map(String.init), limit: try Amount(decimal: limit, scale: 0),
                    deductible: try Amount(decimal: deductible, scale: 0), exclusions: exclusions.split(separator: ",").map(String.init),
                    starts: starts, ends: ends)
                let stored = try await session.reserve().addPolicy(policy, by: session.caller)
                print("policy \(stored.id): \(insurer), \(coverage), limit ¥\(stored.limit), \(starts)…\(ends)")
            }
        }

        struct List: KinkoCommand {
            static let configuration = CommandConfiguration(abstract: "List insurance policies and what is left of them.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var token: TokenOptions

            func execute() async throws {
                let session = try await Session.open(database, token)
                let rows = try await session.reserve().insurancePolicies(by: session.caller).map {
                    [String($0.id), $0.insurer, $0.coverage.joined(separator: ","), $0.limit.description, $0.deductible.description,
                     $0.claimed.description, $0.remaining.description, "\($0.starts)…\($0.ends)", $0.exclusions.joined(separator: ",")]
                }
                print(Table(header: ["policy", "insurer", "covers", "limit", "deductible", "claimed", "remaining", "in force", "excludes"], rows: rows).rendered)
            }
        }
    }

    struct Compute: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Compute and store the requirement line by line; a shortfall raises an alert (exit 9).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Flag var json = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let (requirement, funded) = try await session.reserve().compute(by: session.caller)
            print(ReserveView.render(requirement, funded: funded, json: json))
            if funded < requirement.required { throw ExitCode(9) }
        }
    }

    struct Adequacy: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Required versus funded over time.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let rows = try await session.reserve().adequacy(by: session.caller).map {
                [$0.time.iso8601, $0.ruleVersion, $0.required.description, $0.funded.description,
                 $0.required.isZero ? "-" : Share.percent(basisPoints: Share.basisPoints($0.funded.units, of: $0.required.units) ?? 0), $0.isShort ? "SHORT" : "ok"]
            }
            print(Table(header: ["computed (UTC)", "rules", "required (JPY)", "funded (JPY)", "funded share", ""], rows: rows).rendered)
        }
    }

    struct Fund: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Ask to move yen from own funds into the reserve fund (or back with --release); needs approval.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "Yen.") var amount: String
        @Flag var release = false

        func execute() async throws {
            let session = try await Session.open(database, token)
            let request = try await session.reserve().requestFunding(try Amount(decimal: amount, scale: 0), release: release, by: session.caller)
            print("approval request \(request.id) filed (\(request.policy.summary)); then: kinko reserve fund-execute --request \(request.id)")
        }
    }

    struct FundExecute: KinkoCommand {
        static let configuration = CommandConfiguration(commandName: "fund-execute", abstract: "Post an approved funding or release (exactly once).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var request: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let funded = try await session.reserve().executeFunding(try ApprovalRequestID(parsing: request, field: "request"), by: session.caller)
            print("posted; the reserve fund holds ¥\(funded)")
        }
    }
}

struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident", abstract: "Incidents: declare, plan compensation, pay it, statements.",
        subcommands: [Declare.self, List.self, Plan.self, Pay.self, Statement.self])

    struct Declare: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Declare an incident: its wallets freeze at once; holdings at the time of loss are snapshotted.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "hack, insider_fraud, …") var lossType: String = "hack"
        @Option(help: "WALLET:ASSET:AMOUNT, repeatable.") var loss: [String]
        @Option(help: "When the loss happened (UTC).") var lostAt: String
        @Option(help: "When it was detected (UTC; default now).") var detectedAt: String?

        func execute() async throws {
            let session = try await Session.open(database, token)
            let reserve = try await session.reserve()
            var losses: [IncidentLoss] = []
            for (index, text) in loss.enumerated() {
                let parts = text.split(separator: ":").map(String.init)
                guard parts.count == 3, let asset = await reserve.ledger.asset(code: parts[1]) else {
                    throw KinkoError(.invalidInput, "write WALLET:ASSET:AMOUNT; \"\(text)\" is not", field: "loss[\(index)]")
                }
                losses.append(IncidentLoss(wallet: parts[0], asset: asset.code, amount: try asset.parse(parts[2])))
            }
            let incident = try await reserve.declare(
                lossType: lossType, losses: losses, lostAt: try TimestampNanoseconds(parsing: lostAt, field: "lost_at"),
                detectedAt: try detectedAt.map { try TimestampNanoseconds(parsing: $0, field: "detected_at") } ?? reserve.clock.now(), by: session.caller)
            print("incident \(incident.id) declared (¥\(incident.lossJPY): \(incident.valuation)); frozen: \(Set(losses.map(\.wallet)).sorted().joined(separator: ", "))")
        }
    }

    struct List: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "List incidents and how long compensation took.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            let reserve = try await session.reserve()
            let incidents = try await reserve.incidents(by: session.caller)
            // Amounts in the asset's own units (1,000 XRP, not the ledger's 1000000000 drops).
            var assets: [String: Asset] = [:]
            for code in Set(incidents.flatMap { $0.losses.map(\.asset) }) { assets[code] = await reserve.ledger.asset(code: code) }
            let rows = incidents.map { incident in
                [String(incident.id), incident.lossType,
                 incident.losses.map { "\($0.wallet) \(assets[$0.asset]?.format($0.amount) ?? $0.amount.description) \($0.asset)" }.joined(separator: "; "),
                 incident.lostAt.iso8601, incident.detectedAt.iso8601, incident.status.rawValue,
                 incident.secondsToCompensation.map { "\($0) s" } ?? "-"]
            }
            print(Table(header: ["incident", "type", "lost", "lost at", "detected at", "status", "detection → paid"], rows: rows).rendered)
        }
    }

    struct Plan: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Make the compensation plan for one lost asset; finance and compliance approve it.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var incident: UInt64
        @Option var asset: String
        @Option(help: "jpy or in_kind.") var mode: String = "jpy"
        @Option(help: "For jpy: the reference price in yen per whole coin (e.g. 88.549).") var price: String?

        func execute() async throws {
            let compensation: CompensationMode
            switch (mode, price) {
            case ("in_kind", _): compensation = .inKind
            case ("jpy", let price?): compensation = .jpy(try JPYPrice(decimal: price))
            default: throw ValidationError("--mode jpy needs --price; or use --mode in_kind")
            }
            let session = try await Session.open(database, token)
            let stored = try await session.reserve().plan(incident: incident, asset: asset, mode: compensation, by: session.caller)
            print(IncidentView.plan(stored))
        }
    }

    struct Pay: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Pay an approved plan: every payment posted exactly once (safe to run again after a failure).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var incident: UInt64
        @Option var asset: String

        func execute() async throws {
            let session = try await Session.open(database, token)
            let paid = try await session.reserve().pay(incident: incident, asset: asset, by: session.caller)
            print("incident \(incident) \(asset) plan paid; detection to last payment: \(paid.secondsToCompensation.map { "\($0) s" } ?? "-")")
        }
    }

    struct Statement: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Per-customer statement of a plan (CSV or JSON).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option var incident: UInt64
        @Option var asset: String
        @Option(help: "csv or json.") var format: String = "csv"

        func execute() async throws {
            let session = try await Session.open(database, token)
            let reserve = try await session.reserve()
            let lines = try await reserve.statement(incident: incident, asset: asset, by: session.caller)
            // Amounts in their assets' own units (250000.000000 XRP held, 57766 JPY paid), not base units.
            let paymentCode = try await reserve.storedPlan(incident: incident, asset: asset, by: session.caller).plan.paymentAsset
            let (lost, paid) = (await reserve.ledger.asset(code: asset), await reserve.ledger.asset(code: paymentCode))
            func units(_ amount: Amount, _ unit: Asset?) -> String { unit?.format(amount) ?? amount.description }
            switch format {
            case "csv":
                print("owner,account,held_at_loss_\(asset),loss_share_\(asset),payment_\(paymentCode),transfer")
                for line in lines {
                    print("\(line.entitlement.owner),\(line.entitlement.account),\(units(line.entitlement.amount, lost)),\(units(line.share, lost)),"
                          + "\(units(line.payment, paid)),\(line.transfer)")
                }
            case "json":
                print(CanonicalJSON.array(lines.map {
                    ["owner": .string(String($0.entitlement.owner)), "account": .string($0.entitlement.account.description), "asset": .string(asset),
                     "held_at_loss": .string(units($0.entitlement.amount, lost)), "loss_share": .string(units($0.share, lost)),
                     "payment_asset": .string(paymentCode), "payment": .string(units($0.payment, paid)), "transfer": .string($0.transfer.description)]
                }).text)
            default: throw ValidationError("--format: csv or json")
            }
        }
    }
}

struct InsolvencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insolvency", abstract: "Freeze the exchange and export the distribution schedule for the court-appointed administrator.",
        subcommands: [Freeze.self, Schedule.self])

    struct Freeze: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Enter insolvency: every wallet freezes.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions

        func execute() async throws {
            let session = try await Session.open(database, token)
            try await session.reserve().enterInsolvency(by: session.caller)
            print("insolvency: every wallet is frozen; export the schedule with kinko insolvency schedule")
        }
    }

    struct Schedule: KinkoCommand {
        static let configuration = CommandConfiguration(abstract: "Per customer and asset: claim and distribution (CSV or JSON), with totals that reconcile to the ledger.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var token: TokenOptions
        @Option(help: "csv or json.") var format: String = "csv"

        func execute() async throws {
            let session = try await Session.open(database, token)
            let schedule = try await session.reserve().distributionSchedule(by: session.caller)
            let assets = Dictionary(uniqueKeysWithValues: Asset.standard.map { ($0.code, $0) })
            let f = { (code: String, amount: Amount) in assets[code]?.format(amount) ?? amount.description }
            switch format {
            case "csv":
                print("owner,account,asset,claim,distribution")
                for line in schedule.lines { print("\(line.owner),\(line.account),\(line.asset),\(f(line.asset, line.claim)),\(f(line.asset, line.distribution))") }
                for total in schedule.totals {
                    print("TOTAL,,\(total.asset),\(f(total.asset, total.claims)),\(f(total.asset, total.distributed))")
                }
            case "json":
                print(CanonicalJSON.object([
                    "lines": .array(schedule.lines.map { ["owner": .string(String($0.owner)), "account": .string($0.account.description), "asset": .string($0.asset),
                                                          "claim": .string(f($0.asset, $0.claim)), "distribution": .string(f($0.asset, $0.distribution))] }),
                    "totals": .array(schedule.totals.map { ["asset": .string($0.asset), "claims": .string(f($0.asset, $0.claims)),
                                                            "customer_holdings": .string(f($0.asset, $0.customerHoldings)),
                                                            "guarantee": .string(f($0.asset, $0.guarantee)), "distributed": .string(f($0.asset, $0.distributed)),
                                                            "short": .string(String($0.isShort))] }),
                ]).text)
            default: throw ValidationError("--format: csv or json")
            }
        }
    }
}

enum ReserveView {
    static func render(_ requirement: Requirement, funded: Amount, json: Bool) -> String {
        if json {
            return CanonicalJSON.object([
                "rules": .string(requirement.ruleVersion), "computed_at": .string(requirement.computedAt.iso8601),
                "gross": .string(requirement.gross.description), "insurance_offset": .string(requirement.insuranceOffset.description),
                "required": .string(requirement.required.description), "funded": .string(funded.description),
                "adequate": .string(String(funded >= requirement.required)),
                "lines": .array(requirement.lines.map { ["name": .string($0.name), "inputs": .string($0.inputs), "amount": .string($0.amount.description)] }),
            ]).text
        }
        var text = "Liability reserve under rule set \(requirement.ruleVersion)\n"
        text += Table(header: ["line", "amount (JPY)", "inputs"], rows: requirement.lines.map { [$0.name, $0.amount.description, $0.inputs] }).rendered
        text += "\n\nfunded ¥\(funded) of ¥\(requirement.required) required: " + (funded >= requirement.required ? "adequate" : "SHORT by ¥\(requirement.required.units - funded.units)")
        return text
    }
}

enum IncidentView {
    static func plan(_ stored: StoredPlan) -> String {
        let plan = stored.plan
        let assets = Dictionary(uniqueKeysWithValues: Asset.standard.map { ($0.code, $0) })
        let f = { (code: String, amount: Amount) in assets[code]?.format(amount) ?? amount.description }
        var lines = ["Compensation plan for incident \(plan.incident), \(plan.asset) → paid in \(plan.paymentAsset); approval request \(stored.requestID)"]
        if case .jpy(let price) = plan.mode { lines.append("reference price ¥\(price) per \(plan.asset)") }
        lines.append("\(plan.entitlements.count) customers lost \(f(plan.asset, plan.totalLoss)) \(plan.asset); they are paid \(f(plan.paymentAsset, plan.totalPayment)) \(plan.paymentAsset)")
        for source in plan.sources { lines.append("  from \(source.kind.rawValue)\(source.policy.map { " (policy \($0))" } ?? ""): \(f(plan.paymentAsset, source.amount))") }
        lines.append(plan.shortfall.isZero ? "  shortfall: none" : "  SHORTFALL: \(f(plan.paymentAsset, plan.shortfall))")
        let preview = zip(plan.entitlements, zip(plan.shares, plan.payments)).prefix(10).map { entitlement, pair in
            [String(entitlement.owner), f(plan.asset, entitlement.amount), f(plan.asset, pair.0), f(plan.paymentAsset, pair.1)]
        }
        lines.append(Table(header: ["customer", "held at loss", "loss share", "payment"], rows: preview).rendered)
        if plan.entitlements.count > 10 { lines.append("… \(plan.entitlements.count - 10) more (kinko incident statement)") }
        return lines.joined(separator: "\n")
    }
}
