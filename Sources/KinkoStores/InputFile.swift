import CompressNIO
public import Foundation
public import KinkoCore
import NIOCore

/// Text files the CLI imports (events, CSV, AMLSim directories), plain or gzip-compressed.
/// Compression is recognised by gzip's magic bytes, not by the name, and undone in memory by
/// compress-nio (zlib), so no `gzip` process is needed.
public enum InputFile {
    /// The most bytes a file may expand to: an import is read into memory whole, and a small
    /// compressed file can expand without end (a "zip bomb").
    public static let decompressedBytesMax = 4 << 30

    /// The text of `path`: a gzip stream is decompressed (at most `limit` bytes), anything else
    /// is read as UTF-8. Errors name `field`, the option or parameter the path came from.
    public static func text(atPath path: String, field: String, limit: Int = decompressedBytesMax) throws(KinkoError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KinkoError(.invalidInput, "cannot read \(path)", field: field)
        }
        return try text(of: data, name: path, field: field, limit: limit)
    }

    /// The text of a file's bytes, decompressed when they are a gzip stream.
    public static func text(of data: Data, name: String, field: String, limit: Int = decompressedBytesMax) throws(KinkoError) -> String {
        guard data.count >= 2, data[data.startIndex] == 0x1F, data[data.startIndex + 1] == 0x8B else {
            return String(decoding: data, as: UTF8.self)
        }
        var compressed = ByteBuffer(bytes: data)
        let expanded: ByteBuffer
        do {
            // One byte of room past the limit tells "exactly the limit" from "more".
            expanded = try compressed.decompress(with: .gzip(), maxSize: limit + 1)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw tooLarge(name, field: field, limit: limit)
        } catch {
            throw KinkoError(.invalidInput, "\(name) is not a valid gzip stream (\(error))", field: field)
        }
        guard expanded.readableBytes <= limit else { throw tooLarge(name, field: field, limit: limit) }
        return String(buffer: expanded)
    }

    private static func tooLarge(_ name: String, field: String, limit: Int) -> KinkoError {
        KinkoError(.limitExceeded, "\(name) expands to more than \(limit) bytes", field: field)
    }
}
