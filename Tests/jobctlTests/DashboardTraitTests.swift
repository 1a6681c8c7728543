import Foundation
import TestSupport
import Testing

/// What a jobctl built without the Dashboard trait (the default build) says about serve and
/// --metrics-listen: one line saying how to build with it, exit 1, nothing touched. (With the trait,
/// Tests/DashboardTests test the real thing.)
@Suite("jobctl without the Dashboard trait")
struct DashboardTraitTests {
    #if !Dashboard
        @Test("serve and run --metrics-listen say how to build with the trait, exit 1 and create nothing")
        func refusedWithoutTheTrait() async throws {
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let serve = try await sandbox.jobctl(["serve"])
            expectOneLineError(serve, status: 1, mentioning: "swift build --traits Dashboard")
            let metrics = try await sandbox.jobctl(["run", "--metrics-listen", "127.0.0.1:9464"])
            expectOneLineError(metrics, status: 1, mentioning: "swift build --traits Dashboard")
            #expect(!FileManager.default.fileExists(atPath: sandbox.db), "no database was created")
            // The address is checked first, as a usage error, whatever the build.
            let bad = try await sandbox.jobctl(["run", "--metrics-listen", "9464"])
            expectOneLineError(bad, status: 64, mentioning: "--metrics-listen")
            let open = try await sandbox.jobctl(["serve", "--listen", "0.0.0.0:8080"])
            expectOneLineError(open, status: 64, mentioning: "--token-file")
        }
    #endif
}
