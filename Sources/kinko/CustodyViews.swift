import ArgumentParser
import KinkoCore
import KinkoCustody
import KinkoGovernance

enum CustodyView {
    static func text(_ check: CustodyCheck, _ proposal: [ProposedMovement]) -> String {
        var lines: [String] = ["Custody check: \(check.passed ? "PASS" : "FAIL")", ""]
        let rows = check.assets.map { a -> [String] in
            [a.asset.code, a.asset.format(a.hot), a.asset.format(a.total), a.hotShareBasisPoints.map { Share.percent(basisPoints: $0) } ?? "-",
             Share.percent(basisPoints: UInt128(a.limitBasisPoints)), a.hotWithinLimit ? "ok" : "OVER",
             a.asset.format(a.guaranteeHeld), a.asset.format(a.guaranteeRequired), a.guaranteeSufficient ? "ok" : "SHORT",
             a.passed ? "pass" : "FAIL"]
        }
        lines.append(Table(header: ["asset", "hot", "customer total", "hot share", "limit", "", "guarantee held", "required", "", "result"], rows: rows).rendered)
        for a in check.assets { for problem in a.problems { lines.append("\(a.asset.code): \(problem)") } }
        lines.append("")
        let share = check.totalShareBasisPoints.map { Share.percent(basisPoints: $0) } ?? "-"
        lines.append("total (JPY): hot ¥\(check.totalHotJPY?.description ?? "?") of ¥\(check.totalJPY?.description ?? "?") = \(share), limit \(Share.percent(basisPoints: UInt128(check.limitBasisPoints))): \(check.totalWithinLimit && check.totalProblems.isEmpty ? "pass" : "FAIL")")
        for problem in check.totalProblems { lines.append("total: \(problem)") }
        for flag in check.flags { lines.append("FLAG: \(flag)") }
        if !proposal.isEmpty {
            lines.append("")
            lines.append("Rebalancing proposal (the least movement that restores compliance):")
            for p in proposal {
                let asset = check.assets.first { $0.asset.code == p.asset }?.asset
                lines.append("  \(p.kind.rawValue) \(asset?.format(p.amount) ?? p.amount.description) \(p.asset) from \(p.from) to \(p.to) — \(p.reason)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ check: CustodyCheck, _ proposal: [ProposedMovement]) -> String {
        let assets: [CanonicalJSON] = check.assets.map { a in
            .object([
                "asset": .string(a.asset.code), "hot": .string(a.asset.format(a.hot)), "cold": .string(a.asset.format(a.cold)),
                "customer_total": .string(a.asset.format(a.total)),
                "hot_jpy": .string(a.hotJPY?.description ?? ""), "total_jpy": .string(a.totalJPY?.description ?? ""),
                "hot_share": .string(a.hotShareBasisPoints.map { Share.percent(basisPoints: $0) } ?? ""),
                "hot_share_basis_points": .string(a.hotShareBasisPoints.map { String($0) } ?? ""),
                "limit": .string(Share.percent(basisPoints: UInt128(a.limitBasisPoints))),
                "limit_basis_points": .string(String(a.limitBasisPoints)),
                "guarantee_held": .string(a.asset.format(a.guaranteeHeld)), "guarantee_required": .string(a.asset.format(a.guaranteeRequired)),
                "hot_within_limit": .string(String(a.hotWithinLimit)), "guarantee_sufficient": .string(String(a.guaranteeSufficient)),
                "pass": .string(String(a.passed)), "problems": .array(a.problems.map { .string($0) }),
            ])
        }
        return CanonicalJSON.object([
            "pass": .string(String(check.passed)),
            "assets": .array(assets),
            "total": .object([
                "hot_jpy": .string(check.totalHotJPY?.description ?? ""), "total_jpy": .string(check.totalJPY?.description ?? ""),
                "hot_share": .string(check.totalShareBasisPoints.map { Share.percent(basisPoints: $0) } ?? ""),
                "limit": .string(Share.percent(basisPoints: UInt128(check.limitBasisPoints))),
                "pass": .string(String(check.totalWithinLimit && check.totalProblems.isEmpty)),
                "problems": .array(check.totalProblems.map { .string($0) }),
            ]),
            "flags": .array(check.flags.map { .string($0) }),
            "proposal": .array(proposal.map { p in
                let asset = check.assets.first { $0.asset.code == p.asset }?.asset
                return .object(["kind": .string(p.kind.rawValue), "from": .string(p.from), "to": .string(p.to), "asset": .string(p.asset),
                                "amount": .string(asset?.format(p.amount) ?? p.amount.description), "reason": .string(p.reason)])
            }),
        ]).text
    }
}

enum ReconciliationView {
    static func render(_ result: Reconciliation, format: String) throws -> String {
        let assets = Dictionary(uniqueKeysWithValues: Asset.standard.map { ($0.code, $0) })
        let f = { (code: String, amount: Amount) in assets[code]?.format(amount) ?? amount.description }
        switch format {
        case "json":
            return CanonicalJSON.object([
                "day": .string(result.day), "cutoff": .string(result.cutoff.iso8601), "clean": .string(String(result.isClean)),
                "assets": .array(result.lines.map { line in
                    .object(["asset": .string(line.asset), "customer_liabilities": .string(f(line.asset, line.liabilities)),
                             "ledger_holdings": .string(f(line.asset, line.ledgerHoldings)),
                             "observed": .string(line.observed.map { f(line.asset, $0) } ?? "")])
                }),
                "breaks": .array(result.breaks.map { item in
                    .object(["asset": .string(item.asset), "kind": .string(item.kind.rawValue), "wallet": .string(item.wallet ?? ""),
                             "size": .string(f(item.asset, item.size)), "cause": .string(item.cause)])
                }),
            ]).text
        case "csv":
            var lines = ["day,asset,customer_liabilities,ledger_holdings,observed,breaks"]
            for line in result.lines {
                let count = result.breaks.filter { $0.asset == line.asset }.count
                lines.append("\(result.day),\(line.asset),\(f(line.asset, line.liabilities)),\(f(line.asset, line.ledgerHoldings)),\(line.observed.map { f(line.asset, $0) } ?? ""),\(count)")
            }
            return lines.joined(separator: "\n")
        case "text":
            var lines = ["Segregation reconciliation \(result.day), cut-off \(result.cutoff.iso8601) (17:00 JST): \(result.isClean ? "CLEAN" : "\(result.breaks.count) BREAKS")"]
            lines.append(Table(header: ["asset", "owed to customers", "ledger holdings", "observed"], rows: result.lines.map { line in
                [line.asset, f(line.asset, line.liabilities), f(line.asset, line.ledgerHoldings), line.observed.map { f(line.asset, $0) } ?? "n/a"]
            }).rendered)
            for item in result.breaks { lines.append("BREAK \(item.asset) \(item.kind.rawValue): \(item.cause)") }
            return lines.joined(separator: "\n")
        default:
            throw ValidationError("--format: text, json or csv")
        }
    }
}
