import ArgumentParser
import MLOpsCore

/// `--trigger manual|schedule|monitor`; anything else is refused with the list.
extension RunTrigger: ExpressibleByArgument {}
