public import KinkoCore

/// The binary layout of stored batches. Little-endian, fixed-size records:
///
/// - transfer, 128 bytes (TigerBeetle's layout): id 0, debit_account_id 16, credit_account_id 32,
///   amount 48, pending_id 64, user_data_128 80, user_data_64 96, user_data_32 104, timeout 108,
///   ledger 112, code 116, flags 118, timestamp 120;
/// - account, 64 bytes: id 0, owner 16, user_data_64 32, ledger 40, code 44, flags 46, class 48,
///   reserved 49–51 (zero), user_data_32 52 (zero in accounts stored before 2026-12-04), timestamp 56;
/// - asset, 32 bytes: ledger 0, scale 4, kind 5 (1 crypto, 2 fiat), code length 6, code 7–16
///   (ASCII, zero padded), reserved 17–31 (zero);
/// - expired ids: 16 bytes each.
///
/// Decoding checks every length and enumeration and throws `storageCorrupted` rather than
/// trusting what was read back.
public enum LedgerCodec {
    public static let transferSize = 128
    public static let accountSize = 64
    public static let assetSize = 32

    // MARK: Transfers

    public static func encode(_ transfers: [Transfer]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: transfers.count * transferSize)
        bytes.withUnsafeMutableBytes { raw in
            for (index, t) in transfers.enumerated() {
                let base = index * transferSize
                raw.storeBytes(of: t.id.rawValue.littleEndian, toByteOffset: base, as: UInt128.self)
                raw.storeBytes(of: t.debitAccountID.rawValue.littleEndian, toByteOffset: base + 16, as: UInt128.self)
                raw.storeBytes(of: t.creditAccountID.rawValue.littleEndian, toByteOffset: base + 32, as: UInt128.self)
                raw.storeBytes(of: t.amount.littleEndian, toByteOffset: base + 48, as: UInt128.self)
                raw.storeBytes(of: t.pendingID.rawValue.littleEndian, toByteOffset: base + 64, as: UInt128.self)
                raw.storeBytes(of: t.userData128.littleEndian, toByteOffset: base + 80, as: UInt128.self)
                raw.storeBytes(of: t.userData64.littleEndian, toByteOffset: base + 96, as: UInt64.self)
                raw.storeBytes(of: t.userData32.littleEndian, toByteOffset: base + 104, as: UInt32.self)
                raw.storeBytes(of: t.timeoutSeconds.littleEndian, toByteOffset: base + 108, as: UInt32.self)
                raw.storeBytes(of: t.ledger.littleEndian, toByteOffset: base + 112, as: UInt32.self)
                raw.storeBytes(of: t.code.rawValue.littleEndian, toByteOffset: base + 116, as: UInt16.self)
                raw.storeBytes(of: t.flags.rawValue.littleEndian, toByteOffset: base + 118, as: UInt16.self)
                raw.storeBytes(of: t.timestamp.littleEndian, toByteOffset: base + 120, as: UInt64.self)
            }
        }
        return bytes
    }

    public static func decodeTransfers(_ bytes: [UInt8], count: Int) throws(KinkoError) -> [Transfer] {
        try checkLength(bytes, count: count, size: transferSize, what: "transfers")
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { index in decodeTransfer(raw, at: index * transferSize) }
        }
    }

    public static func decodeTransfer(_ bytes: [UInt8], slot: Int) throws(KinkoError) -> Transfer {
        guard slot >= 0, (slot + 1) * transferSize <= bytes.count else {
            throw KinkoError(.storageCorrupted, "transfer slot \(slot) is past the end of its batch")
        }
        return bytes.withUnsafeBytes { raw in decodeTransfer(raw, at: slot * transferSize) }
    }

    static func decodeTransfer(_ raw: UnsafeRawBufferPointer, at base: Int) -> Transfer {
        Transfer(
            id: TransferID(UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt128.self))),
            debitAccountID: AccountID(UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt128.self))),
            creditAccountID: AccountID(UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 32, as: UInt128.self))),
            amount: UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 48, as: UInt128.self)),
            ledger: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 112, as: UInt32.self)),
            code: TransferCode(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 116, as: UInt16.self))),
            flags: TransferFlags(rawValue: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 118, as: UInt16.self))),
            pendingID: TransferID(UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 64, as: UInt128.self))),
            timeoutSeconds: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 108, as: UInt32.self)),
            userData128: UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 80, as: UInt128.self)),
            userData64: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 96, as: UInt64.self)),
            userData32: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 104, as: UInt32.self)),
            timestamp: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 120, as: UInt64.self))
        )
    }

    /// Calls `body(id, slot)` for every transfer of a transfers batch without decoding the rest.
    public static func forEachTransferID(
        in record: LedgerBatchRecord, _ body: (UInt128, Int) -> Void
    ) throws(KinkoError) {
        try checkLength(record.body, count: record.count, size: transferSize, what: "transfers")
        record.body.withUnsafeBytes { raw in
            for slot in 0..<record.count {
                body(UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: slot * transferSize, as: UInt128.self)), slot)
            }
        }
    }

    // MARK: Accounts

    public static func encode(_ accounts: [Account]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: accounts.count * accountSize)
        bytes.withUnsafeMutableBytes { raw in
            for (index, a) in accounts.enumerated() {
                let base = index * accountSize
                raw.storeBytes(of: a.id.rawValue.littleEndian, toByteOffset: base, as: UInt128.self)
                raw.storeBytes(of: a.owner.littleEndian, toByteOffset: base + 16, as: UInt128.self)
                raw.storeBytes(of: a.userData64.littleEndian, toByteOffset: base + 32, as: UInt64.self)
                raw.storeBytes(of: a.ledger.littleEndian, toByteOffset: base + 40, as: UInt32.self)
                raw.storeBytes(of: a.code.littleEndian, toByteOffset: base + 44, as: UInt16.self)
                raw.storeBytes(of: a.flags.rawValue.littleEndian, toByteOffset: base + 46, as: UInt16.self)
                raw.storeBytes(of: a.accountClass.rawValue, toByteOffset: base + 48, as: UInt8.self)
                raw.storeBytes(of: a.userData32.littleEndian, toByteOffset: base + 52, as: UInt32.self)
                raw.storeBytes(of: a.timestamp.littleEndian, toByteOffset: base + 56, as: UInt64.self)
            }
        }
        return bytes
    }

    public static func decodeAccounts(_ bytes: [UInt8], count: Int) throws(KinkoError) -> [Account] {
        try checkLength(bytes, count: count, size: accountSize, what: "accounts")
        var accounts: [Account] = []
        accounts.reserveCapacity(count)
        for index in 0..<count {
            let base = index * accountSize
            let classRaw = bytes[base + 48]
            guard let accountClass = AccountClass(rawValue: classRaw) else {
                throw KinkoError(.storageCorrupted, "stored account \(index) has unknown class \(classRaw)")
            }
            let account = bytes.withUnsafeBytes { raw in
                Account(
                    id: AccountID(UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt128.self))),
                    ledger: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 40, as: UInt32.self)),
                    code: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 44, as: UInt16.self)),
                    accountClass: accountClass,
                    flags: AccountFlags(rawValue: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 46, as: UInt16.self))),
                    owner: UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt128.self)),
                    userData64: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 32, as: UInt64.self)),
                    userData32: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 52, as: UInt32.self)),
                    timestamp: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 56, as: UInt64.self))
                )
            }
            accounts.append(account)
        }
        return accounts
    }

    // MARK: Assets

    public static func encode(_ assets: [Asset]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: assets.count * assetSize)
        for (index, asset) in assets.enumerated() {
            let base = index * assetSize
            withUnsafeBytes(of: asset.ledger.littleEndian) { bytes.replaceSubrange(base..<base + 4, with: $0) }
            bytes[base + 4] = asset.scale
            bytes[base + 5] = asset.kind == .crypto ? 1 : 2
            let code = Array(asset.code.utf8)
            bytes[base + 6] = UInt8(code.count)
            bytes.replaceSubrange(base + 7..<base + 7 + code.count, with: code)
        }
        return bytes
    }

    public static func decodeAssets(_ bytes: [UInt8], count: Int) throws(KinkoError) -> [Asset] {
        try checkLength(bytes, count: count, size: assetSize, what: "assets")
        var assets: [Asset] = []
        for index in 0..<count {
            let base = index * assetSize
            let ledger = UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16 | UInt32(bytes[base + 3]) << 24
            let kind: Asset.Kind
            switch bytes[base + 5] {
            case 1: kind = .crypto
            case 2: kind = .fiat
            default: throw KinkoError(.storageCorrupted, "stored asset \(index) has unknown kind \(bytes[base + 5])")
            }
            let length = Int(bytes[base + 6])
            guard length <= Asset.codeLengthMax else {
                throw KinkoError(.storageCorrupted, "stored asset \(index) has a code of \(length) bytes")
            }
            let code = String(decoding: bytes[base + 7..<base + 7 + length], as: UTF8.self)
            do {
                assets.append(try Asset(code: code, scale: bytes[base + 4], kind: kind, ledger: ledger))
            } catch {
                throw KinkoError(.storageCorrupted, "stored asset \(index) is invalid: \(error.message)")
            }
        }
        return assets
    }

    // MARK: Balances

    /// 64 bytes an account: debits_pending, debits_posted, credits_pending, credits_posted.
    public static let balanceSize = 64

    public static func encodeBalances(_ balances: ArraySlice<AccountBalance>) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: balances.count * balanceSize)
        bytes.withUnsafeMutableBytes { raw in
            for (index, b) in balances.enumerated() {
                let base = index * balanceSize
                raw.storeBytes(of: b.debitsPending.littleEndian, toByteOffset: base, as: UInt128.self)
                raw.storeBytes(of: b.debitsPosted.littleEndian, toByteOffset: base + 16, as: UInt128.self)
                raw.storeBytes(of: b.creditsPending.littleEndian, toByteOffset: base + 32, as: UInt128.self)
                raw.storeBytes(of: b.creditsPosted.littleEndian, toByteOffset: base + 48, as: UInt128.self)
            }
        }
        return bytes
    }

    public static func decodeBalances(_ bytes: [UInt8]) throws(KinkoError) -> [AccountBalance] {
        guard bytes.count % balanceSize == 0 else {
            throw KinkoError(.storageCorrupted, "a balance page of \(bytes.count) bytes is not a multiple of \(balanceSize)")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<bytes.count / balanceSize).map { index in
                let base = index * balanceSize
                return AccountBalance(
                    debitsPending: UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt128.self)),
                    debitsPosted: UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt128.self)),
                    creditsPending: UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 32, as: UInt128.self)),
                    creditsPosted: UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + 48, as: UInt128.self)))
            }
        }
    }

    // MARK: Account history

    /// One history entry: the transfer's slot (4 bytes), the side (1 byte: 0 debit, 1 credit),
    /// 3 zero bytes, then the account's balances after the transfer (as `encodeBalances`).
    public static let historyEntrySize = 8 + balanceSize

    public static func encodeHistory(_ entries: [AccountHistoryEntry]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * historyEntrySize)
        for entry in entries {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: entry.slot).littleEndian) { bytes += $0 }
            bytes += [entry.side == .debit ? 0 : 1, 0, 0, 0]
            bytes += encodeBalances([entry.balance][...])
        }
        return bytes
    }

    public static func decodeHistory(_ bytes: [UInt8]) throws(KinkoError) -> [AccountHistoryEntry] {
        guard bytes.count % historyEntrySize == 0 else {
            throw KinkoError(.storageCorrupted, "account history of \(bytes.count) bytes is not a multiple of \(historyEntrySize)")
        }
        var entries: [AccountHistoryEntry] = []
        for base in stride(from: 0, to: bytes.count, by: historyEntrySize) {
            let slot = bytes[base..<base + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard bytes[base + 4] <= 1, bytes[base + 5..<base + 8].allSatisfy({ $0 == 0 }) else {
                throw KinkoError(.storageCorrupted, "account history entry \(base / historyEntrySize) has an unknown side")
            }
            let balance = try decodeBalances(Array(bytes[base + 8..<base + historyEntrySize]))[0]
            entries.append(AccountHistoryEntry(slot: slot, side: bytes[base + 4] == 0 ? .debit : .credit, balance: balance))
        }
        return entries
    }

    // MARK: Ids

    public static func encodeIDs(_ ids: [UInt128]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: ids.count * 16)
        bytes.withUnsafeMutableBytes { raw in
            for (index, id) in ids.enumerated() { raw.storeBytes(of: id.littleEndian, toByteOffset: index * 16, as: UInt128.self) }
        }
        return bytes
    }

    public static func decodeIDs(_ bytes: [UInt8]) throws(KinkoError) -> [UInt128] {
        guard bytes.count % 16 == 0 else {
            throw KinkoError(.storageCorrupted, "an id list of \(bytes.count) bytes is not a multiple of 16")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 16).map { UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 16, as: UInt128.self)) }
        }
    }

    /// Big-endian 16 bytes: the column form of ids and amounts in SQL stores (sorts like the number).
    public static func bigEndianBytes(_ value: UInt128) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    public static func fromBigEndianBytes(_ bytes: some Collection<UInt8>) throws(KinkoError) -> UInt128 {
        guard bytes.count == 16 else {
            throw KinkoError(.storageCorrupted, "a 128-bit column holds \(bytes.count) bytes, not 16")
        }
        var value: UInt128 = 0
        for byte in bytes { value = value << 8 | UInt128(byte) }
        return value
    }

    static func checkLength(_ bytes: [UInt8], count: Int, size: Int, what: String) throws(KinkoError) {
        guard count >= 0, bytes.count == count * size else {
            throw KinkoError(.storageCorrupted, "a batch of \(count) \(what) holds \(bytes.count) bytes, expected \(count * size)")
        }
    }
}

extension LedgerCodec {
    /// Calls `body(slot, transfer)` for each transfer of the batch that debits or credits
    /// `account`, comparing the raw id fields first so other transfers are never decoded.
    public static func forEachTransfer(
        in record: LedgerBatchRecord, touching account: AccountID, newestFirst: Bool,
        _ body: (Int, Transfer) throws(KinkoError) -> Void
    ) throws(KinkoError) {
        guard record.kind == .transfers else { return }
        try checkLength(record.body, count: record.count, size: transferSize, what: "transfers")
        let target = account.rawValue.littleEndian
        let slots = newestFirst ? Array((0..<record.count).reversed()) : Array(0..<record.count)
        var matches: [(Int, Transfer)] = []
        record.body.withUnsafeBytes { raw in
            for slot in slots {
                let base = slot * transferSize
                let debit = raw.loadUnaligned(fromByteOffset: base + 16, as: UInt128.self)
                let credit = raw.loadUnaligned(fromByteOffset: base + 32, as: UInt128.self)
                if debit == target || credit == target { matches.append((slot, decodeTransfer(raw, at: base))) }
            }
        }
        for (slot, transfer) in matches { try body(slot, transfer) }
    }
}
