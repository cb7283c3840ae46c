import RegionWatchCore
import RegionWatchTerminal
import RegionWatchUI

/// The side effects the application loop needs from the world: failover, themes, the demo
/// simulator and the receivers' ingest gate. The dashboard passes live ones; in-process
/// session tests pass the same ones built on an in-memory terminal and a virtual clock.
public protocol AppServices: AnyObject {
    func failover(_ intent: FailoverIntent, seeing state: DashboardState)
    func publishToFailover(_ state: DashboardState, recheckGates: Bool)
    func loadTheme(_ name: String) throws -> Theme
    /// Returns `false` when no simulator runs.
    func chaos(_ request: ChaosRequest, lagSeconds: Double) -> Bool
    /// Releases one ingest reservation per applied batch (its span count).
    func releaseIngest(batches: [Int])
}

/// Runs the model on a terminal backend: sends messages through `update`, carries out the
/// commands it returns (feeding their results back as messages) and presents frames. It
/// never waits: whoever owns the input (the ncurses session, or a test) decides when
/// messages arrive.
public final class AppRuntime {
    public private(set) var model: AppModel
    public let backend: TerminalBackend
    private let renderer: TerminalRenderer
    private let services: AppServices
    /// Set once a command asked to quit.
    public private(set) var hasQuit = false
    /// Frames presented since start.
    public var framesRendered: Int { renderer.framesPresented }

    public init(model: AppModel, backend: TerminalBackend, services: AppServices) {
        self.model = model
        self.backend = backend
        self.services = services
        renderer = TerminalRenderer(backend: backend)
        backend.background = model.theme.background
    }

    /// Applies `message` and everything its commands lead to.
    public func send(_ message: AppMessage) {
        var queue = [message]
        while !queue.isEmpty, !hasQuit {
            let commands = model.update(queue.removeFirst())
            for command in commands {
                if let result = execute(command) { queue.append(result) }
            }
        }
    }

    /// Presents a frame when the model changed since the last one; returns whether it did.
    @discardableResult
    public func renderIfNeeded() -> Bool {
        guard model.needsRender else { return false }
        let size = backend.size
        renderer.present(model.frame(size: size))
        model.rendered(size: size)
        return true
    }

    private func execute(_ command: AppCommand) -> AppMessage? {
        switch command {
        case .quit:
            hasQuit = true
        case .redraw:
            renderer.invalidate()
        case .setBackground(let background):
            backend.background = background
        case .failover(let intent, let state):
            services.failover(intent, seeing: state)
        case .publishToFailover(let state, let recheck):
            services.publishToFailover(state, recheckGates: recheck)
        case .loadTheme(let name):
            do {
                return .themeLoaded(try services.loadTheme(name))
            } catch {
                let firstLine = "\(error)".split(separator: "\n").first.map(String.init)
                return .notify(StatusMessage(firstLine ?? "cannot load theme \(name)", isError: true))
            }
        case .chaos(let request, let lag):
            if !services.chaos(request, lagSeconds: lag) {
                return .notify(StatusMessage("chaos keys need the simulator", isError: true))
            }
        case .releaseIngest(let batches):
            services.releaseIngest(batches: batches)
        }
        return nil
    }
}

/// The services of a running dashboard: its collection pipeline, failover driver and themes.
final class LiveAppServices: AppServices {
    private let pipeline: CollectionPipeline
    private let world: LiveFailoverWorld
    private let driver: FailoverDriver
    private let themes: ThemeCatalog

    init(pipeline: CollectionPipeline, world: LiveFailoverWorld, driver: FailoverDriver, themes: ThemeCatalog) {
        self.pipeline = pipeline
        self.world = world
        self.driver = driver
        self.themes = themes
    }

    func failover(_ intent: FailoverIntent, seeing state: DashboardState) {
        driver.handle(intent, seeing: state)
    }

    func publishToFailover(_ state: DashboardState, recheckGates: Bool) {
        world.publish(state)
        if recheckGates { driver.recheck() }
    }

    func loadTheme(_ name: String) throws -> Theme {
        try themes.load(name)
    }

    func chaos(_ request: ChaosRequest, lagSeconds: Double) -> Bool {
        let kind: CollectionPipeline.ChaosKind =
            switch request.kind {
            case .takeDown: .takeDown
            case .injectLag: .injectLag
            case .recover: .recover
            }
        return pipeline.perform(chaos: kind, region: request.region, lagSeconds: lagSeconds)
    }

    func releaseIngest(batches: [Int]) {
        for spans in batches { pipeline.gate.release(spans: spans) }
    }
}
