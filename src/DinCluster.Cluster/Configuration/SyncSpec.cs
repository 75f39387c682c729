using System.Globalization;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Configuration;

/// <summary>Parses the sync option as users write it: async | ssp:K | bsp.</summary>
public static class SyncSpec
{
    public static (SyncMode Mode, int Staleness) Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "async") return (SyncMode.Async, 0);
        if (t == "bsp") return (SyncMode.Bsp, 0);
        if (t.StartsWith("ssp:", StringComparison.Ordinal)
            && int.TryParse(t.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 0)
            return (SyncMode.Ssp, k);
        throw new FormatException($"sync is set to '{text}', must be async, ssp:K (K >= 0) or bsp");
    }

    public static string Format(SyncMode mode, int staleness) => mode switch
    {
        SyncMode.Ssp => $"ssp:{staleness}",
        _ => mode.ToString().ToLowerInvariant(),
    };
}
