#if Dashboard
    /// HTML building: escaping of every string from the database, and the page frame.
    enum HTML {
        /// Text made safe for HTML element content, attribute values (quoted) and SVG: `&`, `<`, `>`,
        /// `"` and `'` become character references; NUL and other C0 controls except tab, newline and
        /// carriage return become U+FFFD (HTML forbids them).
        static func escape(_ text: String) -> String {
            var out = ""
            out.reserveCapacity(text.utf8.count)
            for scalar in text.unicodeScalars {
                switch scalar {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&#39;"
                case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        out += "\u{FFFD}"
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out
        }

        /// A link's query string from pairs, each value percent-encoded (then escaped for the attribute).
        static func query(_ pairs: [(String, String?)]) -> String {
            let parts = pairs.compactMap { name, value in value.map { "\(name)=\(FormDecoding.encode($0))" } }
            return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
        }

        /// The pages of the navigation bar: path and label.
        static let sections = [("/", "Overview"), ("/jobs", "Jobs"), ("/runners", "Runners"), ("/queues", "Queues")]

        /// A whole page: head, navigation and `body` in `<main>`. `title` is escaped here.
        static func page(title: String, active: String, signedIn: Bool, body: () -> String) -> String {
            var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            html += "<title>\(escape(title)) · jobctl</title>"
            html += "<link rel=\"stylesheet\" href=\"/static/style.css\">"
            html += "<script src=\"/static/live.js\" defer></script></head><body><header><nav>"
            html += "<span class=\"brand\">jobctl</span>"
            for (path, label) in sections {
                html += "<a href=\"\(path)\"\(path == active ? " class=\"active\"" : "")>\(label)</a>"
            }
            html += signedIn ? "<span class=\"who\">signed in</span>" : "<a class=\"who\" href=\"/login\">Sign in</a>"
            html += "</nav></header><main id=\"main\">"
            html += body()
            html += "</main><footer><span id=\"live\">Refresh the page to update it.</span></footer></body></html>\n"
            return html
        }
    }
#endif
