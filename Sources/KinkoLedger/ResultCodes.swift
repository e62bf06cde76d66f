// These enums are deliberately not `CustomStringConvertible`: `name` is derived from the case
// name that `String(describing:)` gives, and interpolation shows the Swift case name.

/// The outcome of one `create_transfers` event. Exactly one code per event: the first check
/// that fails, in the order of the cases below (the raw value is the precedence). The order is
/// TigerBeetle's, with Kinko's segregation checks placed after the accounts are known and
/// before any balance is touched. `docs/LEDGER.md` lists them with their meaning.
public enum CreateTransferResult: UInt16, Sendable, CaseIterable {
    case ok = 0
    case linkedEventFailed = 1
    case linkedEventChainOpen = 2
    case timestampMustBeZero = 3
    case reservedFlag = 4
    case idMustNotBeZero = 5
    case idMustNotBeIntMax = 6
    case existsWithDifferentFlags = 7
    case existsWithDifferentPendingID = 8
    case existsWithDifferentTimeout = 9
    case existsWithDifferentDebitAccountID = 10
    case existsWithDifferentCreditAccountID = 11
    case existsWithDifferentAmount = 12
    case existsWithDifferentUserData128 = 13
    case existsWithDifferentUserData64 = 14
    case existsWithDifferentUserData32 = 15
    case existsWithDifferentLedger = 16
    case existsWithDifferentCode = 17
    case exists = 18
    case idAlreadyFailed = 19
    case flagsAreMutuallyExclusive = 20
    case debitAccountIDMustNotBeZero = 21
    case debitAccountIDMustNotBeIntMax = 22
    case creditAccountIDMustNotBeZero = 23
    case creditAccountIDMustNotBeIntMax = 24
    case accountsMustBeDifferent = 25
    case pendingIDMustBeZero = 26
    case pendingIDMustNotBeZero = 27
    case pendingIDMustNotBeIntMax = 28
    case pendingIDMustBeDifferent = 29
    case timeoutReservedForPendingTransfer = 30
    case ledgerMustNotBeZero = 31
    case codeMustNotBeZero = 32
    case debitAccountNotFound = 33
    case creditAccountNotFound = 34
    case accountsMustHaveTheSameLedger = 35
    case transferMustHaveTheSameLedgerAsAccounts = 36
    case pendingTransferNotFound = 37
    case pendingTransferNotPending = 38
    case pendingTransferHasDifferentDebitAccountID = 39
    case pendingTransferHasDifferentCreditAccountID = 40
    case pendingTransferHasDifferentLedger = 41
    case pendingTransferHasDifferentCode = 42
    case exceedsPendingTransferAmount = 43
    case pendingTransferHasDifferentAmount = 44
    case pendingTransferAlreadyPosted = 45
    case pendingTransferAlreadyVoided = 46
    case pendingTransferExpired = 47
    case transferCodeUnknown = 48
    case accountClassesNotAllowedForCode = 49
    case overflowsDebitsPending = 50
    case overflowsCreditsPending = 51
    case overflowsDebitsPosted = 52
    case overflowsCreditsPosted = 53
    case overflowsDebits = 54
    case overflowsCredits = 55
    case overflowsTimeout = 56
    case exceedsCredits = 57
    case exceedsDebits = 58

    // The exchange's transfer controls (`TransferControlPolicy`), checked by `LedgerService`
    // for front ends. They apply to an event that is not a retry (after `exists`) and before
    // any of the checks above that follow it; an engine without controls never answers them.

    /// Success: a transfer of a maker-checker code (or a fee above the schedule) was created
    /// pending; it posts when a second person approves it.
    case pendingApproval = 100
    /// Posting a pending transfer of a maker-checker code needs its approval.
    case approvalRequired = 101
    /// A withdrawal is created pending (the monitoring verdict is taken before it posts).
    case withdrawalMustBePending = 102
    /// A pending withdrawal posts only once monitoring (or compliance) cleared it.
    case withdrawalNotCleared = 103
    /// A deposit to a customer is credited only through screening (sanctions, stolen coins).
    case depositNotScreened = 104
    /// A trade leg debiting a customer needs, in its linked chain, a trade leg paying the same
    /// customer back in another asset.
    case tradeCounterLegMissing = 105
    /// A sweep out of the customer pool beyond holdings minus liabilities.
    case exceedsSweepHeadroom = 106
    /// A reserve release that would leave the fund below the current requirement.
    case exceedsReserveHeadroom = 107
    /// Guarantee crypto would fall below the hot customer holdings.
    case exceedsGuaranteeHeadroom = 108
    /// A control needs figures nobody could supply (the controls are not wired): refused.
    case controlsUnavailable = 109

    /// Whether a retry with the same id and content answers the same: `exists` counts as
    /// done, and a transfer parked for approval was created.
    public var isSuccess: Bool { self == .ok || self == .exists || self == .pendingApproval }
    /// A refusal by the exchange's transfer controls (101–109), as opposed to the engine's.
    public var isControlRefusal: Bool { (101...109).contains(rawValue) }
    /// A failure that depends on the ledger's state at the time (an account or pending
    /// transfer not there yet, a balance limit), as TigerBeetle defines it: the id is then
    /// used up, and a retry with it answers `id_already_failed` rather than succeeding later.
    public var isTransient: Bool {
        switch self {
        case .debitAccountNotFound, .creditAccountNotFound, .pendingTransferNotFound, .exceedsCredits, .exceedsDebits: true
        default: false
        }
    }


    /// snake_case, as in TigerBeetle and the API.
    public var name: String { Self.names[rawValue] ?? "result_\(rawValue)" }
    private static let names = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, snakeCase(String(describing: $0))) })
}

/// The outcome of one `create_accounts` event, in order of precedence.
public enum CreateAccountResult: UInt16, Sendable, CaseIterable {
    case ok = 0
    case linkedEventFailed = 1
    case linkedEventChainOpen = 2
    case timestampMustBeZero = 3
    case reservedFlag = 4
    case idMustNotBeZero = 5
    case idMustNotBeIntMax = 6
    case existsWithDifferentFlags = 7
    case existsWithDifferentOwner = 8
    case existsWithDifferentUserData64 = 9
    case existsWithDifferentUserData32 = 10
    case existsWithDifferentLedger = 11
    case existsWithDifferentCode = 12
    case existsWithDifferentClass = 13
    case exists = 14
    case flagsAreMutuallyExclusive = 15
    case ledgerMustNotBeZero = 16
    case codeMustNotBeZero = 17
    case ledgerNotFound = 18
    case ownerMustNotBeZero = 19

    public var isSuccess: Bool { self == .ok || self == .exists }
    public var name: String { Self.names[Int(rawValue)] }
    private static let names = allCases.map { snakeCase(String(describing: $0)) }
}

/// `debitAccountIDMustNotBeZero` → `debit_account_id_must_not_be_zero`,
/// `existsWithDifferentUserData128` → `exists_with_different_user_data_128`.
func snakeCase(_ camel: String) -> String {
    let characters = Array(camel)
    var result = ""
    for (index, character) in characters.enumerated() {
        let previous = index > 0 ? characters[index - 1] : nil
        let next = index + 1 < characters.count ? characters[index + 1] : nil
        if let previous {
            let startsWord = character.isUppercase
                && (previous.isLowercase || previous.isNumber || (previous.isUppercase && next?.isLowercase == true))
            let startsNumber = character.isNumber && previous.isLetter
            if startsWord || startsNumber { result.append("_") }
        }
        result.append(contentsOf: character.lowercased())
    }
    return result
}
