#if PostgreSQL
    import Foundation
    import Testing

    @testable import JobRunnerPostgres

    @Suite struct PostgresBundledMigrationsTests {
        @Test("the PostgreSQL migrations embedded in the binary are migrations/postgres/*.sql, statement by statement")
        func bundledMigrationsMatchFiles() throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
            let directory = root.appendingPathComponent("migrations")
            let files = try FileManager.default.contentsOfDirectory(
                atPath: directory.appendingPathComponent("postgres").path
            ).filter { $0.hasSuffix(".sql") }.sorted().map { "postgres/" + $0 }
            #expect(files == PostgresBundledMigrations.all.map(\.fileName))
            #expect(PostgresBundledMigrations.all.map(\.version) == Array(1...PostgresBundledMigrations.all.count))
            for migration in PostgresBundledMigrations.all {
                let text = try String(contentsOf: directory.appendingPathComponent(migration.fileName), encoding: .utf8)
                // Each statement, in order, is in the file as it is, followed by its `;`.
                var rest = text[...]
                for statement in migration.statements {
                    guard let range = rest.range(of: statement + ";") else {
                        Issue.record(
                            "\(migration.fileName) differs from PostgresBundledMigrations.swift; run scripts/embed-migrations"
                        )
                        break
                    }
                    rest = rest[range.upperBound...]
                }
                #expect(
                    rest.split(separator: "\n").allSatisfy {
                        $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.hasPrefix("--")
                    },
                    "\(migration.fileName) has SQL after its last embedded statement; run scripts/embed-migrations")
            }
        }
    }
#endif
