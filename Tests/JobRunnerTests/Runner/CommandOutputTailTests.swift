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

    @Test func cutInsideAMultiByteCharacterDropsItsStrayBytes() {
        var tail = CommandOutputTail(limit: 3)
        tail.append(Array("é€x".utf8))  // 2 + 3 + 1 bytes; keeps the last 2 bytes of "€" and "x"
        #expect(tail.text == "…[5 bytes truncated]\nx")
    }

    @Test func keepsEveryByteWhateverItIs() {
        var tail = CommandOutputTail(limit: 4096)
        let bytes: [UInt8] = Array("a\n".utf8) + [0x78, 0x00, 0x79, 0xFF, 0xFE] + Array("LAST\n".utf8)
        tail.append(bytes)
        #expect(tail.bytes == bytes)
    }
}
