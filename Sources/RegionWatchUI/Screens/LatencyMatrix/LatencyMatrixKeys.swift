/// The latency matrix has no keys of its own: it fits one screen, and the global keys apply.
enum LatencyMatrixKeys: ScreenKeys {}
