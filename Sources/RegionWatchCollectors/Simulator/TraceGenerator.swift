import RegionWatchCore

/// Builds realistic traces: an API in the serving region reading from a local replica, or
/// writing through payments to the primary database (crossing regions when the primary is
/// elsewhere) and publishing to a worker. Durations follow the region's current latency and
/// its slow tail reaches the p99 the region reports (a database wait, more of them in an
/// incident); errors follow its error rate; inter-region round trips follow a table with
/// jitter, slower into a region in an incident.
public struct TraceGenerator: Sendable {
    /// Facts about a serving region at the moment a trace is made.
    public struct RegionConditions: Sendable {
        public var region: RegionConfiguration
        public var versions: [String: String]
        /// Multiplies processing times (1 = normal).
        public var latencyFactor: Double
        /// Probability that a trace fails.
        public var errorRate: Double
        /// The p99 latency the region reports now (0: unknown); the slow tail of its traces
        /// reaches it.
        public var p99Milliseconds = 0.0
        /// How deep the region is in an incident (0–1): more slow traces, slower hops into it.
        public var incident = 0.0

        /// The share of traces in the slow tail: the 1% a p99 describes, more in an incident.
        var slowShare: Double { p99Milliseconds > 0 ? 0.01 + 0.09 * incident : 0 }

        public init(region: RegionConfiguration, versions: [String: String], latencyFactor: Double, errorRate: Double) {
            self.region = region
            self.versions = versions
            self.latencyFactor = latencyFactor
            self.errorRate = errorRate
        }
    }

    /// Collects resources and spans into one batch.
    public struct BatchBuilder: Sendable {
        public private(set) var resources: [SpanResource] = []
        public private(set) var spans: [IncomingSpan] = []
        private var resourceIndex: [String: Int] = [:]
        let scope = SpanScope(name: "regionwatch.simulator", version: "1.0.0")

        public init() {}

        mutating func resource(service: String, region: RegionConfiguration, version: String?) -> Int {
            let key = region.name + "/" + service
            if let index = resourceIndex[key] { return index }
            var attributes = [
                Attribute("service.name", .string(service)),
                Attribute("cloud.region", .string(region.name)),
                Attribute("cloud.provider", .string(region.provider)),
                Attribute("deployment.environment", .string("demo")),
            ]
            if let version { attributes.append(Attribute("service.version", .string(version))) }
            let index = resources.count
            resources.append(
                SpanResource(
                    region: region.name, provider: region.provider, service: service, serviceVersion: version,
                    attributes: attributes))
            resourceIndex[key] = index
            return index
        }

        mutating func append(_ span: IncomingSpan) { spans.append(span) }

        /// The batch of everything added.
        public func batch(source: String, at time: Timestamp) -> SpanBatch {
            SpanBatch(source: source, receivedAt: time, resources: resources, scopes: [scope], spans: spans)
        }
    }

    /// Round-trip time between two regions, in milliseconds.
    public static func roundTripMilliseconds(_ a: String, _ b: String) -> Double {
        if a == b { return 0.6 }
        let known: [Set<String>: Double] = [
            ["us-east-1", "eu-west-1"]: 76,
            ["us-east-1", "ap-southeast-1"]: 214,
            ["eu-west-1", "ap-southeast-1"]: 168,
            ["us-east-1", "us-west-2"]: 62,
        ]
        if let value = known[[a, b]] { return value }
        // Unknown pairs: a stable value from the names, 40–220 ms.
        var hash: UInt64 = 1469598103934665603
        for byte in (min(a, b) + "|" + max(a, b)).utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        return 40 + Double(hash % 180)
    }

    /// Adds one trace served in `conditions.region`, ending at `end`, to `builder`.
    public static func addTrace(
        to builder: inout BatchBuilder, conditions: RegionConditions, primary: RegionConfiguration?, end: Timestamp,
        random: inout SeededGenerator
    ) {
        let region = conditions.region
        let factor = conditions.latencyFactor
        let isWrite = random.chance(0.4)
        let fails = random.chance(min(1, conditions.errorRate * 8))
        let traceID = TraceID(high: random.next() | 1, low: random.next())
        // A slow trace waits in the database long enough for the whole request to land around
        // the region's reported p99 (what a `>500ms` filter finds during the incident).
        let isSlow = random.chance(conditions.slowShare)
        let slowWait =
            isSlow ? max(0, conditions.p99Milliseconds * random.uniform(0.85...1.3) - (isWrite ? 45 : 10)) : 0
        func newID() -> SpanID { SpanID(random.next() | 1) }
        func work(_ median: Double) -> Double { max(0.05, median * factor * exp(0.35 * random.normal())) }
        let api = builder.resource(service: "api", region: region, version: conditions.versions["api"])
        let endNanos = UInt64(end.secondsSinceEpoch * 1e9)
        let rootID = newID()
        var cursor = 0.0  // milliseconds after the root's start
        var children: [IncomingSpan] = []

        func span(
            _ id: SpanID, parent: SpanID, name: String, kind: SpanKind, resource: Int, start: Double, duration: Double,
            attributes: [Attribute], status: SpanStatusCode = .unset, message: String = ""
        ) -> IncomingSpan {
            IncomingSpan(
                traceID: traceID, spanID: id, parentSpanID: parent, name: name, kind: kind,
                startUnixNano: UInt64(start * 1e6), endUnixNano: UInt64((start + duration) * 1e6), statusCode: status,
                statusMessage: message, attributes: attributes, resourceIndex: resource, scopeIndex: 0)
        }

        cursor += work(1.5)
        if isWrite {
            // Payments, in the serving region.
            let payments = builder.resource(
                service: "payments", region: region, version: conditions.versions["payments"])
            let clientID = newID(), serverID = newID()
            let processing = work(18)
            let paymentsFail = fails && random.chance(0.6)
            children.append(
                span(
                    serverID, parent: clientID, name: "Authorize", kind: .server, resource: payments,
                    start: cursor + 0.3, duration: processing,
                    attributes: [
                        Attribute("rpc.system", .string("grpc")),
                        Attribute("rpc.service", .string("payments.Payments")),
                    ], status: paymentsFail ? .error : .unset, message: paymentsFail ? "card network timeout" : ""))
            children.append(
                span(
                    clientID, parent: rootID, name: "payments.Authorize", kind: .client, resource: api, start: cursor,
                    duration: processing + 0.6,
                    attributes: [
                        Attribute("rpc.system", .string("grpc")),
                        Attribute("server.address", .string("payments.\(region.name).internal")),
                    ], status: paymentsFail ? .error : .unset))
            cursor += processing + 0.8
            // The write goes to the primary database, wherever it is.
            let databaseRegion = primary ?? region
            let database = builder.resource(service: "postgres", region: databaseRegion, version: "15.6")
            let baseRTT = roundTripMilliseconds(region.name, databaseRegion.name)
            let congestion = databaseRegion.name == region.name ? 1 : 1 + 0.6 * conditions.incident
            let rtt = max(0.2, baseRTT * congestion * (1 + 0.08 * random.normal()))
            let dbClient = newID(), dbServer = newID()
            let statement = work(3) + slowWait
            var insertAttributes = [
                Attribute("db.system", .string("postgresql")),
                Attribute("db.statement", .string("INSERT INTO orders (id, cart_id, total) VALUES ($1, $2, $3)")),
            ]
            if isSlow { insertAttributes.append(Attribute("db.wait", .string("lock on orders: \(Int(slowWait)) ms"))) }
            children.append(
                span(
                    dbServer, parent: dbClient, name: "INSERT orders", kind: .server, resource: database,
                    start: cursor + rtt / 2, duration: statement, attributes: insertAttributes))
            children.append(
                span(
                    dbClient, parent: rootID, name: "INSERT orders", kind: .client, resource: api, start: cursor,
                    duration: statement + rtt,
                    attributes: [
                        Attribute("db.system", .string("postgresql")),
                        Attribute("server.address", .string("db-primary.\(databaseRegion.name).internal")),
                        Attribute("peer.region", .string(databaseRegion.name)),
                    ]))
            cursor += statement + rtt + 0.2
            // Publish to the worker (asynchronous: it may finish after the request).
            let worker = builder.resource(
                service: "checkout-worker", region: region, version: conditions.versions["checkout-worker"])
            let producerID = newID(), consumerID = newID()
            children.append(
                span(
                    producerID, parent: rootID, name: "orders.created publish", kind: .producer, resource: api,
                    start: cursor, duration: work(0.8),
                    attributes: [
                        Attribute("messaging.system", .string("kafka")),
                        Attribute("messaging.destination.name", .string("orders.created")),
                    ]))
            children.append(
                span(
                    consumerID, parent: producerID, name: "orders.created process", kind: .consumer, resource: worker,
                    start: cursor + work(4), duration: work(12),
                    attributes: [Attribute("messaging.system", .string("kafka"))]))
            cursor += 1
        } else {
            let readID = newID(), clientID = newID(), serverID = newID()
            let database = builder.resource(service: "postgres", region: region, version: "15.6")
            let statement = work(2.5) + slowWait
            let readFails = fails
            children.append(
                span(
                    serverID, parent: clientID, name: "SELECT carts", kind: .server, resource: database,
                    start: cursor + 1.1, duration: statement,
                    attributes: [
                        Attribute("db.system", .string("postgresql")),
                        Attribute("db.statement", .string("SELECT * FROM carts WHERE id = $1")),
                    ], status: readFails ? .error : .unset,
                    message: readFails ? "canceling statement due to statement timeout" : ""))
            children.append(
                span(
                    clientID, parent: readID, name: "SELECT carts", kind: .client, resource: api, start: cursor + 1,
                    duration: statement + 0.6,
                    attributes: [
                        Attribute("db.system", .string("postgresql")),
                        Attribute("server.address", .string("db-replica.\(region.name).internal")),
                    ], status: readFails ? .error : .unset))
            children.append(
                span(
                    readID, parent: rootID, name: "cart.load", kind: .internal, resource: api, start: cursor,
                    duration: statement + 2, attributes: []))
            cursor += statement + 2.5
        }
        cursor += work(1)
        let isWriteRoute = isWrite
        var rootAttributes = [
            Attribute("http.request.method", .string(isWriteRoute ? "POST" : "GET")),
            Attribute("http.route", .string(isWriteRoute ? "/api/checkout" : "/api/cart")),
            Attribute("http.response.status_code", .int(fails ? 503 : 200)),
        ]
        if fails { rootAttributes.append(Attribute("error.type", .string("503"))) }
        var root = span(
            rootID, parent: .none, name: isWriteRoute ? "POST /api/checkout" : "GET /api/cart", kind: .server,
            resource: api, start: 0, duration: cursor, attributes: rootAttributes, status: fails ? .error : .unset,
            message: fails ? "HTTP 503" : "")
        // Shift every span so the root ends at `end`.
        let rootStart = endNanos - UInt64(cursor * 1e6)
        root.startUnixNano += rootStart
        root.endUnixNano += rootStart
        builder.append(root)
        for var child in children {
            child.startUnixNano += rootStart
            child.endUnixNano += rootStart
            builder.append(child)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
