using DinCluster.Core.Routing;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// The initial value of a row: a pure function of (table, id, seed, scale), so a row is the same
/// whichever shard creates it, however many shards there are, and whether it was ever stored.
/// Element k is draw k of a SplitMix64 stream seeded by mixing (seed, table, id), cut to 24 bits u
/// and mapped to (2u + 1 - 2^24) * scale / 2^24: symmetric in (-scale, scale), one rounding.
/// </summary>
public static class EmbeddingInit
{
    public static void Fill(string table, long id, long seed, float scale, Span<float> dest) =>
        Fill(StableHash.OfName(table), id, seed, scale, dest);

    public static void Fill(ulong tableKey, long id, long seed, float scale, Span<float> dest)
    {
        var state = StableHash.Fmix64(tableKey ^ StableHash.Fmix64((ulong)id ^ StableHash.Fmix64((ulong)seed)));
        var unit = scale / (1 << 24);
        for (var k = 0; k < dest.Length; k++)
        {
            state += StableHash.Golden;
            var u = (int)(StableHash.SplitMix64(state) >> 40);
            dest[k] = (2 * u + 1 - (1 << 24)) * unit;
        }
    }
}
