import Testing

@testable import JobRunner

@Suite("CommandOutputTail")
struct CommandOutputTailTests {
    @Test(arguments: [1, 7, 64, 1000])
    func matchesNaiveSuffixForArbitraryChunking(limit: Int) {
        var generator = SystemRandomNumberGenerator()
        var tail = CommandOutputTail(limit: limit)
        var all: [UInt8] = []
        for _ in 0..<300 {
            let size = Int.random(in: 0...(limit * 3), using: &generator)
            let chunk = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            all += chunk
            tail.append(chunk)
            #expect(tail.keptBytes == Array(all.suffix(limit)))
        }
        #expect(tail.totalBytes == all.count)
        #expect(tail.truncatedBytes == all.count - min(limit, all.count))
    }

    @Test func noPrefixWhenNothingWasDropped() {
        var tail = CommandOutputTail(limit: 10)
        tail.append(Array("hello".utf8))
        #expect(tail.text == "hello")
        tail.append(Array("world".utf8))
        #expect(tail.text == "helloworld")
        tail.append(Array("!".utf8))
        #expect(tail.text == "…[1 bytes truncated]\nelloworld!")
    }

    @Test func cutInsideAMultiByteCharacterDecodesLossily() {
        var tail = CommandOutputTail(limit: 2)
        tail.append(Array("é€".utf8))  // 2 + 3 bytes; keeps the last 2 bytes of "€"
        #expect(tail.text == "…[3 bytes truncated]\n\u{FFFD}\u{FFFD}")
    }
}
