/// Keeps only the last `limit` bytes of a byte stream in a fixed ring buffer,
/// so memory stays bounded however much a command writes.
struct CommandOutputTail: Sendable {
    let limit: Int
    private(set) var totalBytes: Int = 0
    private var ring: [UInt8]
    /// Index in `ring` where the next byte goes (once the ring is full, also the oldest byte).
    private var writeIndex: Int = 0

    init(limit: Int) {
        self.limit = max(0, limit)
        self.ring = []
        // Grows up to `limit` only as output arrives; a generous limit costs nothing up front.
        self.ring.reserveCapacity(min(self.limit, 64 * 1024))
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += bytes.count
        guard limit > 0, !bytes.isEmpty else { return }
        // Only the last `limit` bytes of this chunk can survive.
        let source = bytes.count > limit ? UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - limit)...]) : bytes
        var offset = 0
        // Fill phase: ring not yet at capacity.
        if ring.count < limit {
            let take = min(limit - ring.count, source.count)
            ring.append(contentsOf: source[0..<take])
            offset = take
            writeIndex = ring.count % limit
        }
        // Overwrite phase, wrapping around at most once (source.count <= limit).
        while offset < source.count {
            let take = min(limit - writeIndex, source.count - offset)
            ring.withUnsafeMutableBytes { destination in
                let target = UnsafeMutableRawBufferPointer(rebasing: destination[writeIndex..<(writeIndex + take)])
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + take)]))
            }
            offset += take
            writeIndex = (writeIndex + take) % limit
        }
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { append($0) }
    }

    /// The kept bytes, oldest first.
    var keptBytes: [UInt8] {
        guard ring.count == limit, writeIndex != 0 else { return ring }
        return Array(ring[writeIndex...]) + ring[..<writeIndex]
    }

    var truncatedBytes: Int { totalBytes - ring.count }

    /// The kept bytes, with a truncation marker when bytes were dropped. A UTF-8 sequence cut in
    /// two by the truncation loses its stray continuation bytes, which count as dropped.
    var bytes: [UInt8] {
        var kept = keptBytes[...]
        if truncatedBytes > 0 {
            var stray = 0
            while stray < 3, let first = kept.first, first & 0b1100_0000 == 0b1000_0000 {
                kept = kept.dropFirst()
                stray += 1
            }
            return Array("…[\(truncatedBytes + stray) bytes truncated]\n".utf8) + kept
        }
        return Array(kept)
    }

    /// Lossy UTF-8 text of ``bytes``.
    var text: String { String(decoding: bytes, as: UTF8.self) }
}
