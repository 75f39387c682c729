using System.Globalization;
using DinCluster.Core.Routing;

namespace DinCluster.Data.Importers;

/// <summary>
/// Which samples go to DIR/test (`--split`):
/// <code>
///   last-per-user[:K]   each user's last K samples by time (K = 1 by default)
///   users:FRACTION      a seeded random FRACTION of the users, all their samples
///   time:T              samples with timestamp >= T
/// </code>
/// A split decides per event (an input row); the samples built from one event go to the same side
/// (Amazon's positive and its sampled negative).
/// </summary>
public abstract record SplitSpec
{
    public sealed record LastPerUser(int Count) : SplitSpec
    {
        public override string ToString() => $"last-per-user:{Count}";
    }

    public sealed record Users(double Fraction) : SplitSpec
    {
        public override string ToString() => $"users:{Fraction.ToString(CultureInfo.InvariantCulture)}";
    }

    public sealed record Time(long From) : SplitSpec
    {
        public override string ToString() => $"time:{From.ToString(CultureInfo.InvariantCulture)}";
    }

    public bool NeedsTimestamps => this is Time;

    /// <summary>Parses `last-per-user`, `last-per-user:K`, `users:F` (0 &lt; F &lt; 1) or `time:T`.</summary>
    public static SplitSpec Parse(string text)
    {
        var (kind, arg) = text.IndexOf(':') is var colon and >= 0 ? (text[..colon], text[(colon + 1)..]) : (text, null);
        switch (kind)
        {
            case "last-per-user":
                if (arg is null) return new LastPerUser(1);
                if (int.TryParse(arg, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) && k >= 1) return new LastPerUser(k);
                throw new ArgumentException($"split '{text}': K must be a whole number >= 1");
            case "users":
                if (double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f > 0 && f < 1) return new Users(f);
                throw new ArgumentException($"split '{text}': the fraction must be a number between 0 and 1 (exclusive), e.g. users:0.1");
            case "time":
                if (long.TryParse(arg, NumberStyles.Integer, CultureInfo.InvariantCulture, out var t)) return new Time(t);
                throw new ArgumentException($"split '{text}': T must be a whole-number timestamp, e.g. time:1500000000");
            default:
                throw new ArgumentException($"split '{text}': must be last-per-user[:K], users:FRACTION or time:T");
        }
    }

    /// <summary>For <see cref="Users"/>: whether a user is a test user. A seeded hash of the id, so the answer
    /// does not depend on partitioning or input order.</summary>
    public static bool IsTestUser(long user, ulong seed, double fraction)
    {
        var h = StableHash.Fmix64((ulong)user ^ StableHash.SplitMix64(seed + StableHash.Golden));
        return (h >> 11) * (1.0 / (1UL << 53)) < fraction;
    }
}
