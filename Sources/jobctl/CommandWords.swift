/// Splits a command given as one string (`--on-failure 'notify --to "ops team"'`) into its words, as
/// a POSIX shell would split it, without a shell: no variables, globs, pipes or substitutions.
///
/// Words are separated by blanks; `'…'` keeps everything literally; `"…"` keeps everything but
/// takes `\"`, `\\`, `\$` and `` \` `` as the character; a backslash outside quotes takes the next
/// character literally.
enum CommandWords {
    struct SplitError: Error, CustomStringConvertible {
        var description: String
    }

    static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var characters = text.makeIterator()
        while let character = characters.next() {
            switch character {
            case " ", "\t", "\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                while true {
                    guard let next = characters.next() else { throw SplitError(description: "unterminated ' quote") }
                    if next == "'" { break }
                    word.append(next)
                }
            case "\"":
                inWord = true
                while true {
                    guard let next = characters.next() else { throw SplitError(description: "unterminated \" quote") }
                    if next == "\"" { break }
                    if next == "\\" {
                        guard let escaped = characters.next() else {
                            throw SplitError(description: "unterminated \" quote")
                        }
                        if !["\"", "\\", "$", "`"].contains(escaped) { word.append("\\") }
                        word.append(escaped)
                    } else {
                        word.append(next)
                    }
                }
            case "\\":
                inWord = true
                guard let escaped = characters.next() else { throw SplitError(description: "a trailing backslash") }
                word.append(escaped)
            default:
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
