import Foundation
import KinkoCore
import KinkoStores
import Testing

/// The CLI's imports read plain or gzip-compressed files through `InputFile` (compress-nio).
@Suite struct InputFileTests {
    static let text = "tran_id,orig_acct,bene_acct\n1,10,20\n2,\"1,0\",30\n"
    /// `gzip.compress(text, mtime=0)` from CPython's gzip module: an independent encoder.
    static let pythonGzip: [UInt8] = [
        0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x2B, 0x29, 0x4A, 0xCC, 0x8B, 0xCF, 0x4C, 0xD1, 0xC9, 0x2F, 0xCA,
        0x4C, 0x8F, 0x4F, 0x4C, 0x4E, 0x2E, 0xD1, 0x49, 0x4A, 0xCD, 0x4B, 0x05, 0xB3, 0xB8, 0x0C, 0x75, 0x0C, 0x0D, 0x74, 0x8C, 0x0C,
        0xB8, 0x8C, 0x74, 0x94, 0x0C, 0x75, 0x0C, 0x94, 0x74, 0x8C, 0x0D, 0xB8, 0x00, 0xA7, 0xEF, 0x0D, 0x9A, 0x2F, 0x00, 0x00, 0x00,
    ]

    // Goal: a gzip stream written by another implementation reads back byte for byte, whatever
    // the file is called; a plain file reads as it is.
    @Test func readsGzipByItsMagicBytesAndPlainTextAsIs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-input-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let compressed = directory.appendingPathComponent("transactions.dat")
        try Data(Self.pythonGzip).write(to: compressed)
        #expect(try InputFile.text(atPath: compressed.path, field: "--file") == Self.text)
        let plain = directory.appendingPathComponent("plain.csv")
        try Data(Self.text.utf8).write(to: plain)
        #expect(try InputFile.text(atPath: plain.path, field: "--file") == Self.text)
        #expect(throws: KinkoError(.invalidInput, "cannot read \(directory.path)/absent.csv", field: "--events")) {
            try InputFile.text(atPath: directory.appendingPathComponent("absent.csv").path, field: "--events")
        }
    }

    // Goal: the expansion limit holds at exactly the text's size and refuses one byte less, so a
    // small file cannot expand without end.
    @Test func decompressedSizeLimitAtAndPastTheLimit() throws {
        let data = Data(Self.pythonGzip)
        let size = Self.text.utf8.count
        #expect(size == 47)
        #expect(try InputFile.text(of: data, name: "t.gz", field: "--file", limit: size) == Self.text)
        #expect(throws: KinkoError(.limitExceeded, "t.gz expands to more than 46 bytes", field: "--file")) {
            try InputFile.text(of: data, name: "t.gz", field: "--file", limit: size - 1)
        }
        #expect(InputFile.decompressedBytesMax == 4 << 30)
    }

    // Goal: a damaged gzip stream is an error naming the file, never text made of its bytes.
    @Test func corruptGzipIsRefused() {
        var damaged = Self.pythonGzip
        damaged[20] ^= 0xFF
        #expect(throws: KinkoError.self) { try InputFile.text(of: Data(damaged), name: "t.gz", field: "--file") }
        do {
            _ = try InputFile.text(of: Data(damaged), name: "t.gz", field: "--file")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.message.hasPrefix("t.gz is not a valid gzip stream"))
        }
    }
}
