using DinCluster.Core.Batches;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// The state of one parameter-server shard: its part of every embedding table, their optimizer
/// slots, admission counts and dedup memory. Flat arrays in and out, so the PS actor only routes
/// messages to it. Not thread-safe: one caller at a time (the actor's mailbox).
/// </summary>
public sealed class EmbeddingShard
{
    private readonly Dictionary<string, EmbeddingTable> _tables = new(StringComparer.Ordinal);

    /// <param name="tables">Table names and widths, e.g. <c>FeatureSchema.Tables</c>.</param>
    /// <param name="settings">Init, optimizer, admission and eviction rules (validated).</param>
    /// <param name="shardIndex">This shard's index under <see cref="Routing.ShardRouter"/> (recorded in snapshots).</param>
    /// <param name="shardCount">Shards the tables are split over.</param>
    public EmbeddingShard(IEnumerable<(string Name, int Dim)> tables, EmbeddingSettings settings, int shardIndex = 0, int shardCount = 1)
    {
        settings.Validate();
        if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount)
            throw new ArgumentOutOfRangeException(nameof(shardIndex), $"shard {shardIndex} of {shardCount}");
        Settings = settings;
        ShardIndex = shardIndex;
        ShardCount = shardCount;
        foreach (var (name, dim) in tables)
            if (!_tables.TryAdd(name, new EmbeddingTable(name, dim, settings)))
                throw new ArgumentException($"table '{name}' is declared twice");
        Tables = _tables.Values.Select(t => (t.Name, t.Dim)).ToArray();
    }

    public EmbeddingSettings Settings { get; }
    public int ShardIndex { get; }
    public int ShardCount { get; }
    public IReadOnlyList<(string Name, int Dim)> Tables { get; }

    public int Dim(string table) => Table(table).Dim;

    /// <summary>
    /// Writes the rows of <paramref name="ids"/> to <paramref name="dest"/> (ids.Length x dim, row i for ids[i]).
    /// An id without a row gets its initial value; no row is created.
    /// </summary>
    public void Pull(string table, ReadOnlySpan<long> ids, Span<float> dest) => Table(table).Pull(ids, dest);

    /// <summary>
    /// Applies one gradient row per id with the table's optimizer. Preconditions: ids unique within
    /// the push (the worker has summed repeated ids). <paramref name="counts"/>: occurrences of each id
    /// in the batch (empty = 1 each), for admission and the mini-batch aware regularizer.
    /// <paramref name="step"/>: the push's step number for TTL (negative = one more than the last).
    /// A batch id this table already applied is ignored; a NaN/Inf gradient rejects the whole push.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown table, or array lengths that disagree.</exception>
    public PushResult Push(string table, ReadOnlySpan<long> ids, ReadOnlySpan<float> grads, long batchId, ReadOnlySpan<int> counts = default, long step = -1) =>
        Table(table).Push(ids, grads, batchId, counts, step);

    /// <summary><see cref="Push(string, ReadOnlySpan{long}, ReadOnlySpan{float}, long, ReadOnlySpan{int}, long)"/> for a <see cref="TableRows"/> of gradients.</summary>
    public PushResult Push(TableRows grads, long batchId, ReadOnlySpan<int> counts = default, long step = -1)
    {
        var t = Table(grads.Table);
        if (grads.Dim != t.Dim) throw new ArgumentException($"table '{grads.Table}' has dim {t.Dim}, the gradients {grads.Dim}");
        return t.Push(grads.Ids, grads.Values, batchId, counts, step);
    }

    /// <summary>The ids that have a row in <paramref name="table"/>, in storage order (for export).</summary>
    public long[] RowIds(string table)
    {
        var t = Table(table);
        return t.LiveRows().Select(r => t.Meta(r).Id).ToArray();
    }

    /// <summary>A copy of the stored row of <paramref name="id"/> with its optimizer state, or null when it has none.</summary>
    public RowState? ReadRow(string table, long id)
    {
        var t = Table(table);
        var row = t.RowOf(id);
        if (row < 0) return null;
        var meta = t.Meta(row);
        var slots = new float[t.SlotCount][];
        for (var s = 0; s < slots.Length; s++) slots[s] = t.Slot(s, row).ToArray();
        return new RowState(id, t.WeightsRow(row).ToArray(), slots, meta.Count, meta.Updates, meta.LastStep);
    }

    public ShardStats Stats() => new(ShardIndex, _tables.Values.Select(t => t.Stats()).ToArray());

    internal IEnumerable<EmbeddingTable> AllTables => _tables.Values;

    internal EmbeddingTable Table(string name) =>
        _tables.TryGetValue(name, out var t) ? t : throw new ArgumentException($"unknown table '{name}'; this shard holds {string.Join(", ", _tables.Keys)}");
}
