import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoReports
import KinkoReserve

/// Custody figures as the API and the console show them.
enum CustodyFigures {
    static func percent(_ basisPoints: UInt128?) -> String? {
        basisPoints.map { Share.decimal(basisPoints: $0) }
    }

    static func view(_ check: CustodyCheck) -> Components.Schemas.CustodyCheck {
        .init(passed: check.passed, problems: check.totalProblems + check.assets.flatMap(\.problems) + check.flags,
              assets: check.assets.map { figures in
                  let scale = figures.asset.scale
                  return .init(asset: figures.asset.code, total: figures.total.decimalString(scale: scale), hot: figures.hot.decimalString(scale: scale),
                               cold: figures.cold.decimalString(scale: scale), hotShare: percent(figures.hotShareBasisPoints),
                               hotLimit: percent(UInt128(figures.limitBasisPoints)) ?? "", hotWithinLimit: figures.hotWithinLimit,
                               guaranteeHeld: figures.guaranteeHeld.decimalString(scale: scale),
                               guaranteeRequired: figures.guaranteeRequired.decimalString(scale: scale), guaranteeSufficient: figures.guaranteeSufficient,
                               problems: figures.problems)
              })
    }
}

enum AuditStatus {
    /// Verifies the audit log incrementally, one run at a time, with the pinned key (the server's
    /// own signing key, or the database's key if it matches the pinned fingerprint).
    static func verify(_ services: Services, by caller: Caller) async throws -> AuditVerifier.Report {
        guard let verification = services.auditVerification else {
            _ = try await services.governance.authorize(caller, .auditRead)
            throw KinkoError(.conflict, "this server holds no audit key it may trust: give it the signing key file, or pin the key (\(AuditKeyPin.environmentVariable))")
        }
        return try await verification.verify(by: caller)
    }
}

/// `/metrics`: request figures plus the state of the exchange, set on the registry's gauges at
/// scrape time.
enum MetricsText {
    static func render(services: Services, requests: RequestMetrics, exposure: MetricsExposure = .full, connections: ConnectionCounter? = nil) async throws -> String {
        try await services.ledger.refresh()
        let stats = await services.ledger.statistics
        requests.gauge("kinko_ledger_batches", "Ledger batches stored (the head of the log).", Double(stats.batches))
        requests.gauge("kinko_ledger_accounts", "Accounts in the ledger.", Double(stats.accounts))
        if let connections { requests.gauge("kinko_http_connections", "Open HTTP connections.", Double(connections.open)) }
        // How the exchange stands is for its own monitoring network only (--metrics full).
        if exposure == .full {
            let alerts = try await services.monitoring.alertCountsForMetrics()
            for status in AlertStatus.allCases {
                requests.gauge("kinko_monitoring_alerts", "Alerts raised, by status.", labels: [("status", status.rawValue)], Double(alerts[status.rawValue] ?? 0))
            }
            let check = try await services.custody.checkForMetrics()
            for figures in check.assets {
                guard let share = figures.hotShareBasisPoints else { continue }
                requests.gauge("kinko_custody_hot_share", "Hot share of customer coins by yen value (fraction; the limit is kinko_custody_hot_share_limit).",
                               labels: [("asset", figures.asset.code)], Double(share) / 10_000)
            }
            requests.gauge("kinko_custody_hot_share_limit", "The hot-share limit in force (fraction; a law-dated regulatory setting).",
                           Double(check.limitBasisPoints) / 10_000)
            requests.gauge("kinko_reports_overdue", "Reports past their due day and not yet final (kinko report due).",
                           Double(try await services.exchange.reports.overdueForMetrics()))
            if let latest = try await services.reserve.latestAdequacyForMetrics(), latest.required.units > 0 {
                requests.gauge("kinko_reserve_adequacy_ratio", "Reserve funded over required at the last computation.",
                               Double(latest.funded.units) / Double(latest.required.units))
            }
        }
        return requests.text
    }
}
