using DinCluster.Core.Batches;

namespace DinCluster.Core.Routing;

/// <summary>
/// Row-wise sharding: (table, id) goes to shard <c>hi64(fmix64(id ^ key(table)) * n)</c>, the
/// top bits of a stable 64-bit mix scaled onto [0, n) (Lemire's multiply-shift, no modulo bias).
/// The mix spreads sequential and hashed ids alike, and the per-table key keeps a small id from
/// landing on the same shard in every table. Depends only on (table, id, n): every worker, PS
/// shard and snapshot restore agrees without coordination.
/// </summary>
public sealed class ShardRouter
{
    public int ShardCount { get; }

    public ShardRouter(int shardCount)
    {
        if (shardCount < 1) throw new ArgumentOutOfRangeException(nameof(shardCount), $"shard count is set to {shardCount}, must be >= 1");
        ShardCount = shardCount;
    }

    /// <summary>The routing constant of a table; pass it to <see cref="ShardOf(ulong, long)"/> in loops.</summary>
    public static ulong TableKey(string table) => StableHash.OfName(table);

    public int ShardOf(string table, long id) => ShardOf(TableKey(table), id);

    public int ShardOf(ulong tableKey, long id) =>
        (int)Math.BigMul(StableHash.Fmix64((ulong)id ^ tableKey), (ulong)ShardCount, out _);

    /// <summary>Groups the ids of one table by shard, remembering positions to put results back in order.</summary>
    public ShardSplit Split(string table, ReadOnlySpan<long> ids)
    {
        var key = TableKey(table);
        var shardOf = new int[ids.Length];
        var sizes = new int[ShardCount];
        for (var i = 0; i < ids.Length; i++)
        {
            var s = ShardOf(key, ids[i]);
            shardOf[i] = s;
            sizes[s]++;
        }
        var groupIds = new long[ShardCount][];
        var positions = new int[ShardCount][];
        for (var s = 0; s < ShardCount; s++)
        {
            groupIds[s] = new long[sizes[s]];
            positions[s] = new int[sizes[s]];
        }
        var fill = new int[ShardCount];
        for (var i = 0; i < ids.Length; i++)
        {
            var s = shardOf[i];
            var k = fill[s]++;
            groupIds[s][k] = ids[i];
            positions[s][k] = i;
        }
        return new ShardSplit(groupIds, positions);
    }

    /// <summary>Splits rows (e.g. one push's gradients) into one <see cref="TableRows"/> per shard; shards without ids get empty rows.</summary>
    public TableRows[] Split(TableRows rows)
    {
        var split = Split(rows.Table, rows.Ids);
        var parts = new TableRows[ShardCount];
        for (var s = 0; s < ShardCount; s++)
            parts[s] = new TableRows(rows.Table, rows.Dim, split.Ids(s), split.Gather<float>(s, rows.Values, rows.Dim));
        return parts;
    }
}

/// <summary>
/// The ids of one list grouped by shard: <c>Ids(s)[k]</c> sat at <c>Positions(s)[k]</c> in the
/// caller's list (ascending, so each group keeps the caller's order).
/// </summary>
public sealed class ShardSplit
{
    private readonly long[][] _ids;
    private readonly int[][] _positions;

    internal ShardSplit(long[][] ids, int[][] positions)
    {
        _ids = ids;
        _positions = positions;
    }

    public int ShardCount => _ids.Length;
    public long[] Ids(int shard) => _ids[shard];
    public int[] Positions(int shard) => _positions[shard];

    /// <summary>Picks this shard's entries out of a per-id array of <paramref name="width"/> values per id (rows: width = dim; counts: 1).</summary>
    public T[] Gather<T>(int shard, ReadOnlySpan<T> perId, int width = 1)
    {
        var pos = _positions[shard];
        var result = new T[pos.Length * width];
        for (var k = 0; k < pos.Length; k++)
            perId.Slice(pos[k] * width, width).CopyTo(result.AsSpan(k * width, width));
        return result;
    }

    /// <summary>Writes this shard's results back to their positions in the caller's per-id array.</summary>
    public void Scatter<T>(int shard, ReadOnlySpan<T> shardValues, Span<T> perId, int width = 1)
    {
        var pos = _positions[shard];
        for (var k = 0; k < pos.Length; k++)
            shardValues.Slice(k * width, width).CopyTo(perId.Slice(pos[k] * width, width));
    }
}
