import Foundation

/// xoshiro256** seeded through SplitMix64: fast, and the same seed gives the same stream on every
/// machine and every run, which a replayable simulation needs (Swift's default generator is not seedable).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// A generator for one named sub-stream (a week, a customer), independent of draw order elsewhere.
    public init(seed: UInt64, stream: UInt64...) {
        var mixed = seed
        for part in stream { mixed = SeededGenerator(seed: mixed ^ (part &* 0x9E37_79B9_7F4A_7C15)).peek() }
        self.init(seed: mixed)
    }

    private func peek() -> UInt64 {
        var copy = self
        return copy.next()
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal by Box–Muller (one value a call, for a stream that does not depend on parity).
    public mutating func normal() -> Double {
        let u1 = 1 - uniform()
        let u2 = uniform()
        return sqrt(-2 * log(u1)) * cos(2 * .pi * u2)
    }

    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// Poisson by inversion (small means only, as here).
    public mutating func poisson(_ mean: Double) -> Int {
        let limit = exp(-mean)
        var k = 0
        var product = uniform()
        while product > limit {
            k += 1
            product *= uniform()
        }
        return k
    }

    /// An index drawn with the given weights.
    public mutating func choice(weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = uniform() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }
}
