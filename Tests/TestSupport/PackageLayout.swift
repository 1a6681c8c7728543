import Foundation

/// Where the package's files are.
package enum PackageLayout {
    /// The package root, from this file's path (Tests/TestSupport/PackageLayout.swift).
    package static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The built `jobctl`: next to the test executable (both live in the build directory), else in the
    /// package's usual build directories (`.build`, and `.build-rel` and `.build-chaos` of scripts/chaos).
    package static let jobctl: String? = {
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(
                URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("jobctl").path)
        }
        if let main = Bundle.main.executableURL {
            candidates.append(
                main.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("jobctl").path)
        }
        for scratch in [".build", ".build-rel", ".build-chaos"] {
            candidates.append("\(root)/\(scratch)/debug/jobctl")
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The built `jobctl`, or an error that says how to build it.
    package static func requireJobctl() throws -> String {
        guard let jobctl else {
            throw HarnessError(
                "the jobctl binary was not found next to the test executable nor in .build/debug; "
                    + "build it first with `swift build --build-tests`")
        }
        return jobctl
    }
}
