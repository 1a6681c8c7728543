#if Dashboard
    import Foundation

    /// A server-rendered SVG line plot of values over time (lateness, duration), with no script and no
    /// external asset. Every text in it is escaped.
    struct SVGPlot {
        /// A point: when (Unix microseconds) and the value (microseconds).
        struct Point {
            var at: Int64
            var value: Int64
        }

        var title: String
        var points: [Point]
        var width = 640
        var height = 180

        func render() -> String {
            let left = 64.0
            let right = 12.0
            let top = 24.0
            let bottom = 28.0
            let plotWidth = Double(width) - left - right
            let plotHeight = Double(height) - top - bottom
            var svg =
                "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
            svg += "<title>\(HTML.escape(title))</title>"
            svg += "<text x=\"4\" y=\"16\" font-size=\"13\" fill=\"#222\">\(HTML.escape(title))</text>"
            svg +=
                "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
            guard let first = points.first else {
                svg +=
                    "<text x=\"\(left + 8)\" y=\"\(top + plotHeight / 2)\" font-size=\"12\" fill=\"#666\">no finished runs</text></svg>"
                return svg
            }
            let minAt = points.map(\.at).min() ?? first.at
            let maxAt = points.map(\.at).max() ?? first.at
            let maxValue = max(1, points.map(\.value).max() ?? 1)
            let minValue = min(0, points.map(\.value).min() ?? 0)
            let span = Double(max(1, maxAt - minAt))
            let range = Double(maxValue - minValue)
            func x(_ at: Int64) -> Double {
                points.count == 1 ? left + plotWidth / 2 : left + Double(at - minAt) / span * plotWidth
            }
            func y(_ value: Int64) -> Double { top + plotHeight - Double(value - minValue) / range * plotHeight }
            func f(_ v: Double) -> String { String(format: "%.1f", v) }
            // Axis labels: the largest value, zero, and the first and last times.
            svg +=
                "<text x=\"\(f(left - 4))\" y=\"\(f(top + 10))\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">\(HTML.escape(Output.preciseSpan(maxValue)))</text>"
            svg +=
                "<text x=\"\(f(left - 4))\" y=\"\(f(y(0)))\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">0</text>"
            svg +=
                "<text x=\"\(f(left))\" y=\"\(height - 8)\" font-size=\"11\" fill=\"#444\">\(HTML.escape(Output.localTime(minAt)))</text>"
            svg +=
                "<text x=\"\(f(left + plotWidth))\" y=\"\(height - 8)\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">\(HTML.escape(Output.localTime(maxAt)))</text>"
            let sorted = points.sorted { $0.at < $1.at }
            let path = sorted.map { "\(f(x($0.at))),\(f(y($0.value)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#2266aa\" stroke-width=\"1.5\" points=\"\(path)\"/>"
            for point in sorted.suffix(400) {
                svg += "<circle cx=\"\(f(x(point.at)))\" cy=\"\(f(y(point.value)))\" r=\"2\" fill=\"#2266aa\"/>"
            }
            svg += "</svg>"
            return svg
        }
    }
#endif
