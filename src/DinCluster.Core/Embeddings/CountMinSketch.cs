using DinCluster.Core.Routing;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// Occurrence counts of ids that have no row yet (Cormode and Muthukrishnan's count-min sketch):
/// <see cref="Depth"/> rows of <see cref="Width"/> saturating 16-bit counters, conservative
/// update. An estimate is never below the true count, so admission can only come early.
/// Counters never decay: an id evicted after admission is re-admitted on its next push.
/// </summary>
internal sealed class CountMinSketch
{
    public const int Depth = 4;

    private readonly int _mask;

    public CountMinSketch(int width)
    {
        Width = width;
        _mask = width - 1;
        Counters = new ushort[Depth * width];
    }

    public int Width { get; }

    /// <summary>Row d is Counters[d * Width .. (d + 1) * Width); exposed for snapshots.</summary>
    public ushort[] Counters { get; }

    public long Bytes => Counters.Length * sizeof(ushort);

    /// <summary>Counts <paramref name="count"/> more occurrences of <paramref name="id"/>; returns its new estimate.</summary>
    public int Add(long id, int count)
    {
        // Kirsch-Mitzenmacher: row d probes h1 + d * h2 (h2 odd), one 64-bit mix for all rows.
        var h = StableHash.Fmix64((ulong)id ^ 0xbb67ae8584caa73bUL);
        var h1 = (int)h;
        var h2 = (int)(h >> 32) | 1;
        var estimate = int.MaxValue;
        for (var d = 0; d < Depth; d++)
            estimate = Math.Min(estimate, Counters[d * Width + ((h1 + d * h2) & _mask)]);
        var updated = (int)Math.Min(ushort.MaxValue, (long)estimate + count);
        // Conservative update: raise only the counters below the new estimate.
        for (var d = 0; d < Depth; d++)
        {
            ref var c = ref Counters[d * Width + ((h1 + d * h2) & _mask)];
            if (c < updated) c = (ushort)updated;
        }
        return updated;
    }

    /// <summary>Adds another sketch of the same width counter by counter (saturating): the result
    /// bounds the counts of the union of both streams, which is how shards' sketches re-shard.</summary>
    public void Merge(ReadOnlySpan<ushort> other)
    {
        for (var i = 0; i < Counters.Length; i++)
            Counters[i] = (ushort)Math.Min(ushort.MaxValue, Counters[i] + other[i]);
    }
}
