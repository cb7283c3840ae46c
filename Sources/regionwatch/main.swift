import RegionWatchApp

// Touch the start time first so time-to-first-frame counts from here.
_ = ProcessStart.monotonicSeconds
await RegionWatchCommand.start()
