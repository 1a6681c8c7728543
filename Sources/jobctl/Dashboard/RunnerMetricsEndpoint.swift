#if Dashboard
    import Foundation
    import Hummingbird
    import Logging
    import Metrics
    import NIOCore
    import Prometheus
    import ServiceLifecycle

    /// `jobctl run --metrics-listen`: the runner's own swift-metrics instruments (runs by outcome,
    /// duration and lateness histograms, due and waiting), collected by swift-prometheus and served at
    /// `/metrics`.
    enum RunnerMetricsEndpoint {
        /// Bootstraps swift-metrics with a Prometheus registry (once per process, before the runner
        /// makes its instruments) and returns the service serving it at `address`.
        static func bootstrap(address: ListenAddress, logger: Logger) -> any Service {
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            // Runs last from milliseconds to hours: buckets from 1 ms to 1 h.
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10), .seconds(30),
                .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
            ]
            MetricsSystem.bootstrap(factory)
            let routesLogger = logger
            return Application(
                responder: DashboardServer.responder { request in
                    guard request.path == "/metrics" else {
                        return .text("only /metrics here\n", status: 404)
                    }
                    guard request.method == "GET" else { return .text("GET only\n", status: 405) }
                    return .text(registry.emitToString(), contentType: "text/plain; version=0.0.4; charset=utf-8")
                },
                configuration: .init(address: .hostname(address.host, port: address.port), serverName: "jobctl"),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? address.port
                    var shown = address
                    shown.port = port
                    routesLogger.info("metrics at http://\(shown)/metrics")
                },
                logger: logger
            )
        }
    }
#endif
