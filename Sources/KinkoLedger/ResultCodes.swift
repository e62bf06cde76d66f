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
    case importedEventExpected = 3
    case importedEventNotExpected = 4
    case timestampMustBeZero = 5
    case importedEventTimestampOutOfRange = 6
    case importedEventTimestampMustNotAdvance = 7
    case reservedFlag = 8
    case idMustNotBeZero = 9
    case idMustNotBeIntMax = 10
    case existsWithDifferentFlags = 11
    case existsWithDifferentPendingID = 12
    case existsWithDifferentTimeout = 13
    case existsWithDifferentDebitAccountID = 14
    case existsWithDifferentCreditAccountID = 15
    case existsWithDifferentAmount = 16
    case existsWithDifferentUserData128 = 17
    case existsWithDifferentUserData64 = 18
    case existsWithDifferentUserData32 = 19
    case existsWithDifferentLedger = 20
    case existsWithDifferentCode = 21
    case exists = 22
    case idAlreadyFailed = 23
    case flagsAreMutuallyExclusive = 24
    case debitAccountIDMustNotBeZero = 25
    case debitAccountIDMustNotBeIntMax = 26
    case creditAccountIDMustNotBeZero = 27
    case creditAccountIDMustNotBeIntMax = 28
    case accountsMustBeDifferent = 29
    case pendingIDMustBeZero = 30
    case pendingIDMustNotBeZero = 31
    case pendingIDMustNotBeIntMax = 32
    case pendingIDMustBeDifferent = 33
    case timeoutReservedForPendingTransfer = 34
    case closingTransferMustBePending = 35
    case ledgerMustNotBeZero = 36
    case codeMustNotBeZero = 37
    case debitAccountNotFound = 38
    case creditAccountNotFound = 39
    case accountsMustHaveTheSameLedger = 40
    case transferMustHaveTheSameLedgerAsAccounts = 41
    case pendingTransferNotFound = 42
    case pendingTransferNotPending = 43
    case pendingTransferHasDifferentDebitAccountID = 44
    case pendingTransferHasDifferentCreditAccountID = 45
    case pendingTransferHasDifferentLedger = 46
    case pendingTransferHasDifferentCode = 47
    case exceedsPendingTransferAmount = 48
    case pendingTransferHasDifferentAmount = 49
    case pendingTransferAlreadyPosted = 50
    case pendingTransferAlreadyVoided = 51
    case pendingTransferExpired = 52
    case importedEventTimestampMustNotRegress = 53
    case importedEventTimestampMustPostdateDebitAccount = 54
    case importedEventTimestampMustPostdateCreditAccount = 55
    case importedEventTimeoutMustBeZero = 56
    case debitAccountAlreadyClosed = 57
    case creditAccountAlreadyClosed = 58
    case transferCodeUnknown = 59
    case accountClassesNotAllowedForCode = 60
    case overflowsDebitsPending = 61
    case overflowsCreditsPending = 62
    case overflowsDebitsPosted = 63
    case overflowsCreditsPosted = 64
    case overflowsDebits = 65
    case overflowsCredits = 66
    case overflowsTimeout = 67
    case exceedsCredits = 68
    case exceedsDebits = 69

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
        case .debitAccountNotFound, .creditAccountNotFound, .pendingTransferNotFound, .exceedsCredits, .exceedsDebits,
             .debitAccountAlreadyClosed, .creditAccountAlreadyClosed: true
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
    case importedEventExpected = 3
    case importedEventNotExpected = 4
    case timestampMustBeZero = 5
    case importedEventTimestampOutOfRange = 6
    case importedEventTimestampMustNotAdvance = 7
    case reservedFlag = 8
    case idMustNotBeZero = 9
    case idMustNotBeIntMax = 10
    case existsWithDifferentFlags = 11
    case existsWithDifferentOwner = 12
    case existsWithDifferentUserData64 = 13
    case existsWithDifferentUserData32 = 14
    case existsWithDifferentLedger = 15
    case existsWithDifferentCode = 16
    case existsWithDifferentClass = 17
    case exists = 18
    case flagsAreMutuallyExclusive = 19
    case ledgerMustNotBeZero = 20
    case codeMustNotBeZero = 21
    case ledgerNotFound = 22
    case ownerMustNotBeZero = 23
    case importedEventTimestampMustNotRegress = 24

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
