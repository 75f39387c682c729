using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Ledger;

/// <summary>
/// Spreads the train row groups over data shards, balanced by row count (largest first onto the
/// lightest shard; ties go to the lower shard index), deterministic for a given input.
/// Each shard then reads its groups in (file, row group) order, so reading stays sequential.
/// </summary>
public static class RowGroupAssignment
{
    public static RowGroupRef[][] Assign(IReadOnlyList<RowGroupRef> groups, int shards)
    {
        if (shards < 1) throw new ArgumentOutOfRangeException(nameof(shards), shards, "at least one data shard");
        var rows = new long[shards];
        var lists = Enumerable.Range(0, shards).Select(_ => new List<RowGroupRef>()).ToArray();
        var ordered = groups
            .OrderByDescending(g => g.Rows)
            .ThenBy(g => g.File, StringComparer.Ordinal)
            .ThenBy(g => g.RowGroup);
        foreach (var g in ordered)
        {
            var lightest = 0;
            for (var s = 1; s < shards; s++)
                if (rows[s] < rows[lightest]) lightest = s;
            lists[lightest].Add(g);
            rows[lightest] += g.Rows;
        }
        return lists
            .Select(l => l.OrderBy(g => g.File, StringComparer.Ordinal).ThenBy(g => g.RowGroup).ToArray())
            .ToArray();
    }
}
