public import KinkoCore

public enum PrincipalTag {}
public typealias PrincipalID = Identifier<PrincipalTag>

/// What a principal may be trusted with. One person or client may hold several roles, as long
/// as no two conflict (`SegregationOfDuties`).
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Manages principals, roles and credentials; runs the system.
    case admin
    /// The exchange's systems and their operators: post deposits, withdrawals, trades, fees.
    case `operator`
    /// Custody: registers wallets, records balances, initiates movements.
    case treasurer
    /// Approves movements by signing their digest with a registered key.
    case signer
    /// AML: alerts, cases, STRs, rule sets.
    case compliance
    /// Reserve, insurance, incidents, compensation.
    case finance
    /// Internal audit: reads everything, changes nothing.
    case auditor
    /// The FSA inspector: reads everything, changes nothing.
    case inspector
    /// The court-appointed insolvency administrator.
    case administrator

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    public init(parsing text: String) throws(KinkoError) {
        guard let role = Role(rawValue: text) else {
            throw KinkoError(.invalidInput, "unknown role \"\(text)\"; one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))", field: "role")
        }
        self = role
    }
}

/// Every command Kinko offers, by the name the permission table, the audit log and the API use.
public enum Permission: String, Sendable, CaseIterable {
    case ledgerRead = "ledger.read"
    case ledgerAssetsAdd = "ledger.assets.add"
    case ledgerAccountsCreate = "ledger.accounts.create"
    case ledgerTransfersCreate = "ledger.transfers.create"
    case ledgerPulse = "ledger.pulse"
    case ledgerVerify = "ledger.verify"
    case ledgerPolicyPropose = "ledger.policy.propose"
    case governanceRead = "governance.read"
    case principalsCreate = "governance.principals.create"
    case principalsEnrol = "governance.principals.enrol"
    case rolesGrant = "governance.roles.grant"
    case rolesRevoke = "governance.roles.revoke"
    case tokensRead = "governance.tokens.read"
    case tokensIssue = "governance.tokens.issue"
    case tokensRevoke = "governance.tokens.revoke"
    case keysRegister = "governance.keys.register"
    case keysRevoke = "governance.keys.revoke"
    case approvalsRead = "governance.approvals.read"
    case approvalsRevise = "governance.approvals.revise"
    case approvalsApprove = "governance.approvals.approve"
    case approvalsExecute = "governance.approvals.execute"
    case auditRead = "audit.read"
    case custodyRead = "custody.read"
    case custodyVendorsManage = "custody.vendors.manage"
    case custodyWalletsManage = "custody.wallets.manage"
    case custodyWalletsFreeze = "custody.wallets.freeze"
    case custodyObservationsRecord = "custody.observations.record"
    case custodyReconcile = "custody.reconcile"
    case custodyWhitelistRequest = "custody.whitelist.request"
    case custodyMovementsRequest = "custody.movements.request"
    case custodyMovementsRelease = "custody.movements.release"
    case custodyMovementsComplete = "custody.movements.complete"
    /// A signer files their own extended public key, with proof of possession.
    case custodyBitcoinKeysRegister = "custody.bitcoin.keys.register"
    /// A signer hands back the partial signatures they made on a movement's PSBT.
    case custodyBitcoinSign = "custody.bitcoin.psbt.sign"
    /// A customer's deposit address is derived and handed out.
    case custodyAddressesIssue = "custody.addresses.issue"
    case reserveRead = "reserve.read"
    case reserveRulesPropose = "reserve.rules.propose"
    case reserveVolumesRecord = "reserve.volumes.record"
    case reserveInsuranceManage = "reserve.insurance.manage"
    case reserveCompute = "reserve.compute"
    case reserveFundRequest = "reserve.fund.request"
    case incidentDeclare = "incident.declare"
    case incidentPlan = "incident.plan"
    case incidentPay = "incident.pay"
    case insolvencyFreeze = "insolvency.freeze"
    case insolvencyRead = "insolvency.read"
    case monitorRead = "monitor.read"
    case monitorIngest = "monitor.ingest"
    case monitorCustomersImport = "monitor.customers.import"
    case monitorListsManage = "monitor.lists.manage"
    case monitorRulesPropose = "monitor.rules.propose"
    case monitorAlertsManage = "monitor.alerts.manage"
    case monitorCasesManage = "monitor.cases.manage"
    case monitorReportsDraft = "monitor.reports.draft"
    /// An employee asking compliance to pre-clear a trade of their own.
    case surveilPreClearanceRequest = "surveil.preclearance.request"
    /// Approving or denying another person's pre-clearance request.
    case surveilPreClearanceDecide = "surveil.preclearance.decide"
    case withdrawalsRead = "controls.withdrawals.read"
    case withdrawalsRequest = "controls.withdrawals.request"
    case withdrawalsDecide = "controls.withdrawals.decide"
    case withdrawalsRelease = "controls.withdrawals.release"
    case depositsRecord = "controls.deposits.record"
    case depositsDecide = "controls.deposits.decide"
    /// Reading reports, the calendar and the filing log (STRs: compliance, auditors, inspectors).
    case reportsRead = "reports.read"
    /// Generating a report from the books as of its date.
    case reportsGenerate = "reports.generate"
    /// Making a report someone else generated final.
    case reportsApprove = "reports.approve"
    /// Recording that a final STR was filed with the FIU.
    case reportsFile = "reports.file"
    /// Reading customers' identity-verification records.
    case customersRead = "customers.read"
    /// Recording a new version of a customer's identity verification.
    case customersVerify = "customers.verify"
    /// Setting a customer's risk rating, PEP and sanctions screening result.
    case customersRate = "customers.rate"
    /// Placing or lifting a legal hold, and purging records past their retention period.
    case recordsRetain = "records.retain"
    /// Proposing a version of the law-dated regulatory settings (hot share, guarantee, cut-off,
    /// whitelist wait, travel-rule threshold).
    case settingsPropose = "settings.propose"
}

/// Which roles may run which command. A command not listed for a role is refused (403 in the
/// API, exit code 3 in the CLI) and the refusal itself is audited.
public struct PermissionTable: Sendable {
    public let roles: [Permission: Set<Role>]

    public init(_ roles: [Permission: Set<Role>]) {
        self.roles = roles
    }

    public func allows(_ role: Role, _ permission: Permission) -> Bool {
        roles[permission]?.contains(role) ?? false
    }

    public static let everyone = Set(Role.allCases)
    static let readers: Set<Role> = [.admin, .auditor, .inspector, .administrator, .compliance, .finance]

    public static let standard = PermissionTable([
        .ledgerRead: everyone,
        .ledgerAssetsAdd: [.admin],
        .ledgerAccountsCreate: [.operator, .treasurer, .finance],
        .ledgerTransfersCreate: [.operator, .treasurer, .finance],
        .ledgerPulse: [.operator, .admin],
        .ledgerVerify: everyone,
        .ledgerPolicyPropose: [.finance, .compliance],
        .governanceRead: readers,
        .principalsCreate: [.admin],
        .principalsEnrol: [.admin],
        .rolesGrant: [.admin],
        .rolesRevoke: [.admin],
        // Tokens for oneself only: nobody issues a usable credential for someone else.
        .tokensRead: everyone,
        .tokensIssue: everyone,
        // Revoking someone else's token.
        .tokensRevoke: [.admin],
        .keysRegister: everyone,
        .keysRevoke: [.admin],
        .approvalsRead: everyone,
        .approvalsRevise: everyone,
        .approvalsApprove: everyone,
        .approvalsExecute: [.admin, .treasurer, .finance, .compliance],
        .auditRead: readers,
        .custodyRead: everyone,
        .custodyVendorsManage: [.admin, .treasurer],
        .custodyWalletsManage: [.treasurer],
        .custodyWalletsFreeze: [.admin, .finance, .treasurer, .administrator],
        .custodyObservationsRecord: [.treasurer, .operator],
        .custodyReconcile: [.treasurer, .finance],
        .custodyWhitelistRequest: [.treasurer],
        .custodyMovementsRequest: [.treasurer, .finance],
        .custodyMovementsRelease: [.treasurer, .admin],
        .custodyMovementsComplete: [.operator, .treasurer],
        .custodyBitcoinKeysRegister: [.signer],
        .custodyBitcoinSign: [.signer],
        .custodyAddressesIssue: [.operator, .treasurer],
        .reserveRead: everyone,
        .reserveRulesPropose: [.finance],
        .reserveVolumesRecord: [.finance, .operator],
        .reserveInsuranceManage: [.finance],
        .reserveCompute: [.finance],
        .reserveFundRequest: [.finance],
        .incidentDeclare: [.finance, .admin],
        .incidentPlan: [.finance],
        .incidentPay: [.finance, .treasurer],
        .insolvencyFreeze: [.administrator, .admin],
        .insolvencyRead: [.administrator, .auditor, .inspector, .admin, .finance],
        .monitorRead: [.compliance, .auditor, .inspector, .admin],
        .monitorIngest: [.operator],
        .monitorCustomersImport: [.operator, .compliance],
        .monitorListsManage: [.compliance],
        .monitorRulesPropose: [.compliance],
        .monitorAlertsManage: [.compliance],
        .monitorCasesManage: [.compliance],
        .monitorReportsDraft: [.compliance],
        // The exchange's own people (not the FSA's inspector, not a court's administrator).
        .surveilPreClearanceRequest: [.admin, .operator, .treasurer, .signer, .compliance, .finance, .auditor],
        .surveilPreClearanceDecide: [.compliance],
        .withdrawalsRead: readers.union([.operator, .treasurer]),
        .withdrawalsRequest: [.operator],
        .withdrawalsDecide: [.compliance],
        .withdrawalsRelease: [.operator, .treasurer],
        .depositsRecord: [.operator],
        .depositsDecide: [.compliance],
        .reportsRead: [.admin, .auditor, .inspector, .administrator, .compliance, .finance],
        .reportsGenerate: [.finance, .compliance],
        .reportsApprove: [.finance, .compliance],
        .reportsFile: [.compliance],
        .customersRead: [.compliance, .auditor, .inspector, .operator],
        .customersVerify: [.operator, .compliance],
        .customersRate: [.compliance],
        .recordsRetain: [.compliance, .admin],
        .settingsPropose: [.compliance, .admin],
    ])
}

/// Pairs of roles one principal may not hold together. Granting the second of a pair is
/// refused; `sod-report` lists principals that hold a pair anyway (after the table changed).
public struct SegregationOfDuties: Sendable {
    public struct Conflict: Hashable, Sendable {
        public let first: Role
        public let second: Role
        public let reason: String

        public init(_ first: Role, _ second: Role, _ reason: String) {
            (self.first, self.second) = first < second ? (first, second) : (second, first)
            self.reason = reason
        }
    }

    public let conflicts: [Conflict]

    public init(_ conflicts: [Conflict]) {
        self.conflicts = conflicts
    }

    /// The conflicts a set of roles contains.
    public func conflicts(in roles: Set<Role>) -> [Conflict] {
        conflicts.filter { roles.contains($0.first) && roles.contains($0.second) }
    }

    public static let standard: SegregationOfDuties = {
        var conflicts = [
            Conflict(.treasurer, .signer, "who initiates a movement must not approve it"),
            Conflict(.finance, .signer, "who initiates a reserve draw must not approve it"),
            // Who manages people and credentials holds no operational role: otherwise one
            // person could give themselves the power to move value.
            Conflict(.admin, .signer, "who grants roles and keys must not sign"),
            Conflict(.admin, .operator, "who grants roles must not post"),
            Conflict(.admin, .treasurer, "who grants roles must not move coins"),
            Conflict(.admin, .finance, "who grants roles must not move the reserve"),
            Conflict(.admin, .compliance, "who grants roles must not clear alerts"),
            Conflict(.admin, .auditor, "who grants access must not audit it"),
            Conflict(.operator, .auditor, "who posts must not audit the postings"),
            Conflict(.operator, .compliance, "who posts must not clear the alerts on them"),
        ]
        for role in Role.allCases where role != .inspector {
            conflicts.append(Conflict(.inspector, role, "the FSA inspector holds no role inside the exchange"))
        }
        for role in Role.allCases where role != .inspector && role != .administrator && role != .auditor {
            conflicts.append(Conflict(.administrator, role, "the insolvency administrator is appointed by the court, not the exchange"))
        }
        return SegregationOfDuties(conflicts)
    }()
}
