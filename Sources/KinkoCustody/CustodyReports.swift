public import KinkoCore
public import KinkoGovernance

/// The custody check and the reconciliation as every front end shows them: one JSON encoding
/// and one summary each, with amounts in their asset's decimals and shares from exact integers
/// (`Share`), never through floating point. The CLI prints these; the API's schema carries the
/// same strings.
extension CustodyCheck {
    /// The check with the rebalancing proposal, as JSON (`kinko custody check --json`).
    public func json(proposal: [ProposedMovement]) -> CanonicalJSON {
        let assets: [CanonicalJSON] = self.assets.map { a in
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
        return .object([
            "pass": .string(String(passed)),
            "assets": .array(assets),
            "total": .object([
                "hot_jpy": .string(totalHotJPY?.description ?? ""), "total_jpy": .string(totalJPY?.description ?? ""),
                "hot_share": .string(totalShareBasisPoints.map { Share.percent(basisPoints: $0) } ?? ""),
                "limit": .string(Share.percent(basisPoints: UInt128(limitBasisPoints))),
                "pass": .string(String(totalWithinLimit && totalProblems.isEmpty)),
                "problems": .array(totalProblems.map { .string($0) }),
            ]),
            "flags": .array(flags.map { .string($0) }),
            "proposal": .array(proposal.map { p in
                let asset = self.assets.first { $0.asset.code == p.asset }?.asset
                return .object(["kind": .string(p.kind.rawValue), "from": .string(p.from), "to": .string(p.to), "asset": .string(p.asset),
                                "amount": .string(asset?.format(p.amount) ?? p.amount.description), "reason": .string(p.reason)])
            }),
        ])
    }
}

extension Reconciliation {
    /// The first line of every rendering: the day, the cut-off and the verdict.
    public var headline: String {
        "Segregation reconciliation \(day), cut-off \(cutoff.iso8601) (17:00 JST): \(isClean ? "CLEAN" : "\(breaks.count) BREAKS")"
    }

    /// Every figure and break as plain text, amounts in the decimals of `assets` (by code).
    public func text(assets: [String: Asset]) -> String {
        var text = [headline]
        for line in lines(assets: assets) {
            text.append("\(line.asset): owed to customers \(line.owed), ledger holdings \(line.held), observed \(line.observed ?? "n/a")")
        }
        for line in reserveLines {
            func f(_ amount: Amount) -> String { assets[line.asset]?.format(amount) ?? amount.description }
            text.append("\(line.asset) reserve: fund \(f(line.fund)), ledger holdings \(f(line.ledgerHoldings)), observed \(line.observed.map(f) ?? "n/a")")
        }
        for item in breaks { text.append("BREAK \(item.asset) \(item.kind.rawValue): \(item.cause)") }
        return text.joined(separator: "\n")
    }

    /// Each asset's figures in its decimals.
    public func lines(assets: [String: Asset]) -> [(asset: String, owed: String, held: String, observed: String?)] {
        func f(_ asset: String, _ amount: Amount) -> String { assets[asset]?.format(amount) ?? amount.description }
        return self.lines.map { line in
            (line.asset, f(line.asset, line.liabilities), f(line.asset, line.ledgerHoldings), line.observed.map { f(line.asset, $0) })
        }
    }
}

extension Share {
    /// `1234` basis points → `"12.34"` (the API's percent figures, without the sign).
    public static func decimal(basisPoints: UInt128) -> String {
        String(percent(basisPoints: basisPoints).dropLast())
    }
}
