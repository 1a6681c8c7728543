#if Dashboard
    import Foundation
    import TestSupport
    import Testing

    /// A job's history on its page and `/api/history`, paged by run id (keyset).
    @Suite("jobctl serve: history pages", .serialized, .timeLimit(.minutes(5)))
    struct DashboardHistoryTests {
        /// The run ids of `jobctl ARGS --json` (a history document).
        private func ids(_ fixture: DashboardFixture, _ arguments: [String]) async throws -> [Int] {
            let text = try await fixture.jsonOutput(arguments)
            return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []).compactMap {
                $0["id"] as? Int
            }
        }

        /// The runs listed on a job page, its history links by `rel` (hrefs unescaped), and its outcomes.
        private func page(_ fixture: DashboardFixture, _ base: String, _ path: String) async throws -> (
            runs: [Int], links: [String: String], outcomes: Set<String>
        ) {
            let answer = try await fixture.get(base + path)
            guard answer.status == 200 else { throw HarnessError("\(path): \(answer.status) \(answer.body)") }
            let runs = answer.body.components(separatedBy: "<tr data-run=\"").dropFirst().compactMap {
                Int($0.prefix { $0 != "\"" })
            }
            let outcomes = Set(
                answer.body.components(separatedBy: "<td class=\"outcome-").dropFirst().map {
                    String($0.prefix { $0 != "\"" })
                })
            var links: [String: String] = [:]
            if let start = answer.body.range(of: "<nav class=\"pages history-pages\">"),
                let end = answer.body[start.upperBound...].range(of: "</nav>")
            {
                for anchor in answer.body[start.upperBound..<end.lowerBound].components(separatedBy: "<a href=\"")
                    .dropFirst()
                {
                    let href = anchor.prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
                    guard let rel = anchor.range(of: "rel=\"") else { continue }
                    links[String(anchor[rel.upperBound...].prefix { $0 != "\"" })] = href
                }
            }
            return (runs, links, outcomes)
        }

        /// Walks a job page's history by `rel` from `path`: the pages' runs in the order visited, the
        /// last page's path, and how many pages.
        private func walk(_ fixture: DashboardFixture, _ base: String, from path: String, by rel: String)
            async throws -> (pages: [[Int]], last: String)
        {
            var pages: [[Int]] = []
            var next: String? = path
            var last = path
            while let path = next {
                guard pages.count < 100 else { throw HarnessError("more than 100 pages: the links loop") }
                let shown = try await page(fixture, base, path)
                pages.append(shown.runs)
                last = path
                next = shown.links[rel]
            }
            return (pages, last)
        }

        @Test("a job's page walks its whole history by older and newer links, the outcome filter kept")
        func jobPageHistoryPages() async throws {
            let fixture = try await DashboardFixture(runs: 5)
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            let name = DashboardFixture.failingName
            let all = try await ids(fixture, ["history", name, "--limit", "1000", "--json"])
            #expect(all.count >= 5)

            // Older, two at a time: every run once, newest first; the first page has no newer link.
            let first = try await page(fixture, base, "/job?name=\(name)&limit=2")
            #expect(first.runs == Array(all.prefix(2)))
            #expect(first.links["first"] == nil && first.links["prev"] == nil)
            #expect(first.links["next"] == "/job?name=\(name)&limit=2&before=\(all[1])")
            let older = try await walk(fixture, base, from: "/job?name=\(name)&limit=2", by: "next")
            #expect(older.pages.flatMap { $0 } == all)
            #expect(older.pages.count == (all.count + 1) / 2)
            #expect(older.pages.allSatisfy { !$0.isEmpty })
            // Back by newer links from the oldest page: the same pages, in the other order.
            let newer = try await walk(fixture, base, from: older.last, by: "prev")
            #expect(Array(newer.pages.reversed()) == older.pages)
            let oldest = try await page(fixture, base, older.last)
            #expect(oldest.links["next"] == nil, "nothing is older than the oldest page")
            #expect(oldest.links["first"] == "/job?name=\(name)&limit=2")

            // The outcome filter stays in every link, and only runs of that outcome are listed.
            let failed = try await walk(fixture, base, from: "/job?name=\(name)&outcome=failed&limit=1", by: "next")
            #expect(
                failed.pages.flatMap { $0 }
                    == (try await ids(fixture, ["history", name, "--status", "failed", "--limit", "1000", "--json"])))
            let filtered = try await page(fixture, base, "/job?name=\(name)&outcome=failed&limit=1")
            #expect(filtered.outcomes == ["failed"])
            #expect(filtered.links["next"]?.contains("outcome=failed") == true)
            #expect(try await page(fixture, base, "/job?name=\(name)&outcome=ok&limit=1").runs.isEmpty)

            // The hostile name, percent-encoded in the links, walks its history too.
            let hostile = FormDecodingForTests.encode(DashboardFixture.hostileName)
            let hostileWalk = try await walk(fixture, base, from: "/job?name=\(hostile)&limit=3", by: "next")
            #expect(
                hostileWalk.pages.flatMap { $0 }
                    == (try await ids(fixture, ["history", DashboardFixture.hostileName, "--limit", "1000", "--json"])))

            // A key between runs, beyond the newest, and before the first: still the right runs.
            #expect(try await page(fixture, base, "/job?name=\(name)&before=\(all[0] + 1000)").runs == all)
            #expect(try await page(fixture, base, "/job?name=\(name)&after=\(all[0])").runs == [])
            #expect(try await page(fixture, base, "/job?name=\(name)&before=1").runs == [])
            for extreme in ["before=9223372036854775807", "after=9223372036854775807"] {
                let shown = try await page(fixture, base, "/job?name=\(name)&\(extreme)")
                #expect(shown.links["first"] == "/job?name=\(name)", "\(extreme)")
            }
            #expect(
                try await page(fixture, base, "/job?name=\(name)&after=\((all.last ?? 1) - 1)&limit=1").runs == [
                    all.last ?? 0
                ])
            #expect(try await fixture.get(base + "/job?name=\(name)&before=9223372036854775808").status == 400)
            for bad in ["before=x", "before=0", "after=-3"] {
                #expect(try await fixture.get(base + "/job?name=\(name)&\(bad)").status == 400, "\(bad)")
            }
        }

        @Test("/api/history takes before= and links the next page; the pages walk to history --json")
        func apiHistoryPages() async throws {
            let fixture = try await DashboardFixture(runs: 4)
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            for (api, command) in [
                ("/api/history?limit=2", ["history", "--limit", "1000", "--json"]),
                ("/api/history?status=ok&limit=3", ["history", "--status", "ok", "--limit", "1000", "--json"]),
                (
                    "/api/history?job=failing-job&limit=2",
                    ["history", "failing-job", "--limit", "1000", "--json"]
                ),
            ] {
                let walked = try await DashboardAPITests.walkPages(fixture, base, api)
                let whole = try JSONSerialization.jsonObject(with: Data(try await fixture.jsonOutput(command).utf8))
                #expect(NSArray(array: walked.elements).isEqual(to: whole as? [Any] ?? []), "\(api)")
                #expect(walked.pages > 1, "\(api)")
            }
            let all = try await ids(fixture, ["history", "--limit", "1000", "--json"])
            let answer = try await fixture.get(base + "/api/history?limit=2&before=\(all[3])")
            let shown = (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [[String: Any]] ?? [])
                .compactMap { $0["id"] as? Int }
            #expect(shown == Array(all[4...5]))
            #expect(answer.headers["link"] == "</api/history?limit=2&before=\(all[5])>; rel=\"next\"")
            #expect(try await fixture.get(base + "/api/history?before=abc").status == 400)
        }
    }
#endif
