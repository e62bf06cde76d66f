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
        check.json(proposal: proposal).text
    }
}

enum ReconciliationView {
    static func render(_ result: Reconciliation, format: String) throws -> String {
        let assets = Dictionary(uniqueKeysWithValues: Asset.standard.map { ($0.code, $0) })
        let f = { (code: String, amount: Amount) in assets[code]?.format(amount) ?? amount.description }
        let lines = result.lines(assets: assets)
        switch format {
        case "json":
            return CanonicalJSON.object([
                "day": .string(result.day), "cutoff": .string(result.cutoff.iso8601), "clean": .string(String(result.isClean)),
                "assets": .array(lines.map { line in
                    .object(["asset": .string(line.asset), "customer_liabilities": .string(line.owed), "ledger_holdings": .string(line.held),
                             "observed": .string(line.observed ?? "")])
                }),
                "breaks": .array(result.breaks.map { item in
                    .object(["asset": .string(item.asset), "kind": .string(item.kind.rawValue), "wallet": .string(item.wallet ?? ""),
                             "size": .string(f(item.asset, item.size)), "cause": .string(item.cause)])
                }),
            ]).text
        case "csv":
            var rows = ["day,asset,customer_liabilities,ledger_holdings,observed,breaks"]
            for line in lines {
                let count = result.breaks.filter { $0.asset == line.asset }.count
                rows.append("\(result.day),\(line.asset),\(line.owed),\(line.held),\(line.observed ?? ""),\(count)")
            }
            return rows.joined(separator: "\n")
        case "text":
            var text = [result.headline]
            text.append(Table(header: ["asset", "owed to customers", "ledger holdings", "observed"], rows: lines.map { line in
                [line.asset, line.owed, line.held, line.observed ?? "n/a"]
            }).rendered)
            for item in result.breaks { text.append("BREAK \(item.asset) \(item.kind.rawValue): \(item.cause)") }
            return text.joined(separator: "\n")
        default:
            throw ValidationError("--format: text, json or csv")
        }
    }
}
