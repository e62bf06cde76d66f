import Foundation
import KinkoCore

/// A file of exported audit checkpoints, one JSON line each, kept outside the database (by an
/// auditor, or by the server's `--checkpoint-log`). Appending is one `write` of a whole line to
/// a file opened for appending, then `fsync`: a crash leaves every earlier line intact.
public enum CheckpointFile {
    public static func append(_ checkpoint: AuditCheckpoint, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw KinkoError(.storageFailure, "cannot open \(path) for appending: \(String(cString: strerror(errno)))", field: "checkpoint_log")
        }
        defer { close(descriptor) }
        let line = Array((checkpoint.exported + "\n").utf8)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(descriptor) == 0 else {
            throw KinkoError(.storageFailure, "cannot append to \(path): \(String(cString: strerror(errno)))", field: "checkpoint_log")
        }
    }
}
