import Foundation
public import KinkoCore

/// A plain-file signer's key: one `xprv`/`tprv` master key in a file only its owner can read.
/// Only `kinko signer` reads these; the server never does. (Hardware wallets and HSMs sign the
/// same PSBTs without Kinko seeing a key.)
public enum SignerKeyFile {
    /// The largest key file read: a key is 111 characters; comments and blank lines fit.
    public static let bytesMax = 4_096

    /// The master key in `path`. Refused: a file group or others may read or write (mode must
    /// be 0600 or 0400), one that is not a regular file, one over `bytesMax`, and one whose
    /// key is public or not a master key (depth 0). Lines starting with `#` are comments.
    public static func load(path: String) throws(KinkoError) -> ExtendedKey {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw KinkoError(.notFound, "cannot read \(path)", field: "key_file")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { throw KinkoError(.invalidInput, "\(path) is not a regular file", field: "key_file") }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
        guard mode & 0o077 == 0 else {
            throw KinkoError(.invalidInput, "\(path) has mode \(String(mode, radix: 8)); others can read it. Run chmod 600 \(path) and check who copied it",
                             field: "key_file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= bytesMax else { throw KinkoError(.limitExceeded, "\(path) is \(size) bytes; a key file is at most \(bytesMax)", field: "key_file") }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw KinkoError(.invalidInput, "\(path) is not UTF-8 text", field: "key_file")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard lines.count == 1 else { throw KinkoError(.invalidInput, "\(path) holds \(lines.count) keys; one xprv or tprv per file", field: "key_file") }
        let key = try ExtendedKey(parsing: lines[0], field: "key_file")
        guard key.isPrivate else { throw KinkoError(.invalidInput, "\(path) holds a public key; a signer's file holds its xprv or tprv", field: "key_file") }
        guard key.depth == 0 else { throw KinkoError(.invalidInput, "\(path) holds a key at depth \(key.depth); a signer's file holds its master key", field: "key_file") }
        return key
    }

    /// The origin-annotated public key at `path` of `master`: `[fingerprint/48'/0'/0'/2']xpub…`.
    public static func keyExpression(master: ExtendedKey, path: DerivationPath) throws(KinkoError) -> String {
        let derived = try master.derive(path)
        let origin = path.steps.isEmpty ? Hex.encode(master.fingerprint) : Hex.encode(master.fingerprint) + "/" + path.relative
        return "[\(origin)]\(derived.serializedPublic)"
    }
}
