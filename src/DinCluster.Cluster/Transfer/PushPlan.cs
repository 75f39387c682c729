using DinCluster.Cluster.Protocol;
using DinCluster.Core.Batches;
using DinCluster.Core.Routing;

namespace DinCluster.Cluster.Transfer;

/// <summary>
/// Splits one batch's row gradients (one row per unique id, per table) into pushes per owning
/// PS shard, each cut into parts under the message budget. Every part of a shard's push carries
/// the same batch id, part number and part count, so the shard can reassemble and apply once.
/// </summary>
public static class PushPlan
{
    /// <param name="counts">counts[t][r]: occurrences of gradients[t].Ids[r] in the batch.</param>
    public static IReadOnlyList<(int Shard, PushGradients Push)> Build(
        TableRows[] gradients, int[][] counts, ShardRouter router, int maxMessageBytes,
        long batchId, long step, int worker, int samples, long generation = 0)
    {
        var perShard = new List<(TableRows Rows, int[] Counts)>[router.ShardCount];
        for (var t = 0; t < gradients.Length; t++)
        {
            var g = gradients[t];
            var per = MessageBudget.RowsPerMessage(maxMessageBytes, g.Dim);
            var split = router.Split(g.Table, g.Ids);
            for (var shard = 0; shard < split.ShardCount; shard++)
            {
                var positions = split.Positions(shard);
                if (positions.Length == 0) continue;
                var list = perShard[shard] ??= [];
                foreach (var (start, count) in MessageBudget.Slices(positions.Length, per))
                {
                    var ids = new long[count];
                    var values = new float[count * g.Dim];
                    var occurrences = new int[count];
                    for (var k = 0; k < count; k++)
                    {
                        var r = positions[start + k];
                        ids[k] = g.Ids[r];
                        occurrences[k] = counts[t][r];
                        g.Row(r).CopyTo(values.AsSpan(k * g.Dim, g.Dim));
                    }
                    list.Add((new TableRows(g.Table, g.Dim, ids, values), occurrences));
                }
            }
        }
        // One table slice per part keeps every part under the budget.
        var pushes = new List<(int, PushGradients)>();
        for (var shard = 0; shard < perShard.Length; shard++)
        {
            if (perShard[shard] is not { } parts) continue;
            for (var p = 0; p < parts.Count; p++)
                pushes.Add((shard, new PushGradients(batchId, step, worker, samples, p, parts.Count, [parts[p].Rows], [parts[p].Counts], generation)));
        }
        return pushes;
    }
}
