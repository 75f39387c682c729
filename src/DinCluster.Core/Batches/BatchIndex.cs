using DinCluster.Core.Features;

namespace DinCluster.Core.Batches;

/// <summary>
/// The unique ids of a batch per embedding table, and where each occurrence points.
/// A worker pulls exactly <see cref="UniqueIds"/> (one row per unique id) and pushes one
/// summed gradient row per unique id.
/// <code>
///   UniqueIds[t]     : long[U_t]   in order of first appearance (deterministic)
///   SparseSlots[f]   : int[Count]  index into UniqueIds[table(f)]
///   VarLenSlots[v]   : int[sum L]  index into UniqueIds[table(v)], aligned with Batch.Values[v]
/// </code>
/// </summary>
public sealed class BatchIndex
{
    public required long[][] UniqueIds { get; init; }
    public required int[][] SparseSlots { get; init; }
    public required int[][] VarLenSlots { get; init; }

    /// <summary>How often each unique id of table <paramref name="table"/> occurs in the batch (for MBA's n_j).</summary>
    public int[] OccurrenceCounts(FeatureSchema schema, int table)
    {
        var counts = new int[UniqueIds[table].Length];
        for (var f = 0; f < SparseSlots.Length; f++)
            if (schema.TableIndex(schema.Sparse[f].Table) == table)
                foreach (var s in SparseSlots[f]) counts[s]++;
        for (var v = 0; v < VarLenSlots.Length; v++)
            if (schema.TableIndex(schema.VarLen[v].Table) == table)
                foreach (var s in VarLenSlots[v]) counts[s]++;
        return counts;
    }

    public static BatchIndex Build(Batch batch, FeatureSchema schema)
    {
        var tables = schema.Tables.Count;
        var maps = new Dictionary<long, int>[tables];
        var lists = new List<long>[tables];
        for (var t = 0; t < tables; t++)
        {
            maps[t] = new Dictionary<long, int>();
            lists[t] = [];
        }

        int Slot(int t, long id)
        {
            if (!maps[t].TryGetValue(id, out var s))
            {
                s = lists[t].Count;
                maps[t][id] = s;
                lists[t].Add(id);
            }
            return s;
        }

        var sparseSlots = new int[schema.Sparse.Count][];
        for (var f = 0; f < schema.Sparse.Count; f++)
        {
            var t = schema.TableIndex(schema.Sparse[f].Table);
            var ids = batch.Sparse[f];
            var slots = new int[ids.Length];
            for (var i = 0; i < ids.Length; i++) slots[i] = Slot(t, ids[i]);
            sparseSlots[f] = slots;
        }
        var varSlots = new int[schema.VarLen.Count][];
        for (var v = 0; v < schema.VarLen.Count; v++)
        {
            var t = schema.TableIndex(schema.VarLen[v].Table);
            var ids = batch.Values[v];
            var slots = new int[ids.Length];
            for (var i = 0; i < ids.Length; i++) slots[i] = Slot(t, ids[i]);
            varSlots[v] = slots;
        }
        return new BatchIndex
        {
            UniqueIds = lists.Select(l => l.ToArray()).ToArray(),
            SparseSlots = sparseSlots,
            VarLenSlots = varSlots,
        };
    }

    /// <summary>
    /// The index of samples [start, start+count) of <paramref name="batch"/> (the batch this index
    /// was built from), over the same <see cref="UniqueIds"/>: its slots still point into the whole
    /// batch's rows, so a slice reads the pulled rows as they are and its row gradients add up
    /// position by position with the other slices'.
    /// </summary>
    public BatchIndex Slice(Batch batch, int start, int count)
    {
        if (start < 0 || count < 0 || start + count > batch.Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"slice [{start}, {start + count}) of a batch of {batch.Count}");
        var varSlots = new int[VarLenSlots.Length][];
        for (var v = 0; v < varSlots.Length; v++)
        {
            var lengths = batch.Lengths[v];
            int offset = 0, total = 0;
            for (var i = 0; i < start; i++) offset += lengths[i];
            for (var i = start; i < start + count; i++) total += lengths[i];
            varSlots[v] = VarLenSlots[v].AsSpan(offset, total).ToArray();
        }
        return new BatchIndex
        {
            UniqueIds = UniqueIds,
            SparseSlots = SparseSlots.Select(s => s.AsSpan(start, count).ToArray()).ToArray(),
            VarLenSlots = varSlots,
        };
    }
}
