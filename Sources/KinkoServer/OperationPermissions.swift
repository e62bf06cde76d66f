import KinkoGovernance

/// The permission each operation needs, checked by `OperationMiddleware` as soon as the caller
/// is authenticated — before the body is read or parsed — so that a caller without it gets 403
/// whatever they send, and a refusal costs no parsing. The domain service checks again (it is
/// the authority; a new front end is safe without this table); this is the early, cheap refusal.
///
/// An operation absent from `required` is decided by the domain alone: the public ones
/// (`OperationMiddleware.publicOperations`) and those whose permission depends on the caller's
/// relation to the thing (their own tokens and keys, cancelling their own parked transfer).
/// `OperationPermissionTests` checks that every operation in openapi.yaml is in exactly one of
/// the tables.
enum OperationPermissions {
    static let required: [String: Permission] = [
        // Ledger
        "listAssets": .ledgerRead, "registerAsset": .ledgerAssetsAdd, "listBalances": .ledgerRead, "createAccounts": .ledgerAccountsCreate,
        "getAccount": .ledgerRead, "listAccountTransfers": .ledgerRead, "listAccountBalances": .ledgerRead, "queryTransfers": .ledgerRead, "getStatement": .ledgerRead, "listReports": .reportsRead, "reportsDue": .reportsRead, "generateReport": .reportsGenerate, "getReport": .reportsRead, "approveReport": .reportsApprove, "fileSTR": .reportsFile, "createTransfers": .ledgerTransfersCreate, "getTransfer": .ledgerRead,
        "verifyLedger": .ledgerVerify, "pulseLedger": .ledgerPulse,
        "getTransferPolicy": .ledgerRead, "listTransferPolicies": .governanceRead, "proposeTransferPolicy": .ledgerPolicyPropose,
        "adoptTransferPolicy": .approvalsExecute, "listParkedTransfers": .ledgerRead, "postParkedTransfer": .approvalsExecute,
        // Governance
        "listPrincipals": .governanceRead, "createPrincipal": .principalsCreate, "createEnrolment": .principalsEnrol,
        "grantRole": .rolesGrant, "revokeRole": .rolesRevoke, "dutiesReport": .governanceRead, "listPermissions": .governanceRead,
        "listKeys": .approvalsRead, "listApprovals": .approvalsRead, "getApproval": .approvalsRead, "approveRequest": .approvalsApprove,
        "executeRequest": .approvalsExecute,
        // Audit
        "verifyAudit": .auditRead, "listAuditEntries": .auditRead, "listCheckpoints": .auditRead, "inclusionProof": .auditRead,
        "consistencyProof": .auditRead,
        // Custody
        "listWallets": .custodyRead, "registerWallet": .custodyWalletsManage, "custodyCheck": .custodyRead, "listMovements": .custodyRead,
        "requestMovement": .custodyMovementsRequest, "getReconciliation": .custodyRead, "saveVendor": .custodyVendorsManage,
        "freezeWallet": .custodyWalletsFreeze, "executeUnfreeze": .custodyWalletsFreeze, "recordBalances": .custodyObservationsRecord,
        "recordPrices": .custodyObservationsRecord, "listWhitelist": .custodyRead, "requestWhitelist": .custodyWhitelistRequest,
        "activateWhitelist": .approvalsExecute, "releaseMovement": .custodyMovementsRelease, "completeMovement": .custodyMovementsComplete,
        "signerQueue": .custodyRead, "reconcile": .custodyReconcile, "custodyAlerts": .custodyRead,
        // Reserve, incidents, insolvency
        "reserveAdequacy": .reserveRead, "computeRequirement": .reserveCompute, "listIncidents": .reserveRead, "declareIncident": .incidentDeclare,
        "listReserveRuleSets": .reserveRead, "proposeReserveRules": .reserveRulesPropose, "adoptReserveRules": .approvalsExecute,
        "listVolumes": .reserveRead, "importVolumes": .reserveVolumesRecord, "refreshVolumes": .reserveVolumesRecord, "listPolicies": .reserveRead,
        "addPolicy": .reserveInsuranceManage, "requestFunding": .reserveFundRequest, "executeFunding": .approvalsExecute,
        "planCompensation": .incidentPlan, "getPlan": .reserveRead, "payPlan": .incidentPay, "planStatement": .reserveRead,
        "enterInsolvency": .insolvencyFreeze, "distributionSchedule": .insolvencyRead,
        // Monitoring
        "ingestEvents": .monitorIngest, "preTradeCheck": .monitorIngest, "ingestMarketEvents": .monitorIngest, "scanMarket": .monitorIngest,
        "requestPreClearance": .surveilPreClearanceRequest, "decidePreClearance": .surveilPreClearanceDecide,
        "listMarketAlerts": .monitorRead, "getMarketAlert": .monitorRead, "scanNetwork": .monitorIngest, "listAlerts": .monitorRead, "getAlert": .monitorRead, "dismissAlert": .monitorAlertsManage,
        "executeDismissal": .monitorAlertsManage, "listCases": .monitorRead, "openCase": .monitorCasesManage, "getCase": .monitorRead,
        "updateCase": .monitorCasesManage, "draftSTR": .monitorReportsDraft, "listMonitoringRuleSets": .monitorRead,
        "proposeMonitoringRules": .monitorRulesPropose, "adoptMonitoringRules": .approvalsExecute, "listAddressLists": .monitorRead,
        "importAddressList": .monitorListsManage, "activateAddressList": .monitorListsManage, "getJurisdictions": .monitorRead, "listTravelRuleMessages": .customersRead,
        "setJurisdictions": .monitorListsManage, "activateJurisdictions": .monitorListsManage, "importProfiles": .monitorCustomersImport,
        // Withdrawals and deposits
        "listWithdrawals": .withdrawalsRead, "requestWithdrawal": .withdrawalsRequest, "getWithdrawal": .withdrawalsRead,
        "decideWithdrawal": .withdrawalsDecide, "executeWithdrawalClearance": .approvalsExecute, "releaseWithdrawal": .withdrawalsRelease,
        "listDeposits": .withdrawalsRead, "recordDeposits": .depositsRecord, "decideDeposit": .depositsDecide,
        "executeDepositDecision": .approvalsExecute,
    ]

    /// Authenticated, but what is allowed depends on whose thing it is: the domain decides.
    static let decidedByDomain: Set<String> = [
        "whoAmI", "listOwnTokens", "issueToken", "revokeToken", "registerKey", "revokeKey", "cancelParkedTransfer",
        // Compliance, auditors and inspectors list every pre-clearance request; an employee their own.
        "listPreClearances",
    ]
}
